/**
 * The e2e portal's session settings, shared by e2e/serve.ts (which starts the portal with them) and the
 * specs (which wait for them). Both run with the same environment.
 */

/**
 * Idle timeout: short, so that the idle test waits well under a minute, yet long enough that a superadmin's
 * page stays signed in while a spec drives a second browser on a slow, busy machine.
 */
export const IDLE_TIMEOUT_S = Number(process.env.E2E_IDLE_TIMEOUT_S ?? 45);

/**
 * How old a sign-in may be before sensitive writes need a step-up. Short, so that the unlock test can see
 * the step-up dialog after a wait; long enough that a spec adding a key right after sign-in needs none.
 */
export const STEP_UP_MAX_AGE_S = 15;

/**
 * SIEM delivery: the e2e portal sends to a Splunk HEC stand-in on this port (E2E_HEC_PORT, default 19100),
 * which e2e/audit.spec.ts starts, with this token.
 */
export const E2E_HEC_PORT = Number(process.env.E2E_HEC_PORT ?? 19100);
export const E2E_HEC_URL = `http://127.0.0.1:${E2E_HEC_PORT}/services/collector/event`;
export const E2E_HEC_TOKEN = 'e2e-hec-token-7c1f0a52';
