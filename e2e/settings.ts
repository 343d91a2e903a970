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
 * The environment of a portal started for the e2e suite or a benchmark on `port`: attestation checked
 * against a test MDS blob that trusts exactly Chromium's virtual authenticator, short idle and step-up
 * timeouts, and the client address from Next's own header.
 */
export function testPortalEnv(port: string): Record<string, string> {
  return {
    PORT: port,
    PORTAL_ENV: 'local',
    PORTAL_URL: `http://localhost:${port}`,
    WEBAUTHN_ATTESTATION_TRUST: 'mds',
    WEBAUTHN_MDS_FILE: 'e2e/fixtures/mds/blob.jwt',
    WEBAUTHN_MDS_ROOT_FILE: 'e2e/fixtures/mds/root.pem',
    WEBAUTHN_AAGUID_ALLOWLIST: '01020304-0506-0708-0102-030405060708',
    SESSION_IDLE_TIMEOUT_S: String(IDLE_TIMEOUT_S),
    STEP_UP_MAX_AGE_S: String(STEP_UP_MAX_AGE_S),
    SIGNIN_MAX_FAILURES_PER_IP: '1000',
    TRUSTED_PROXY_COUNT: '1',
  };
}

/**
 * The GPU pool view: e2e/pool.spec.ts starts a real Prometheus (with the fixture exporters) on these
 * ports, and the portal's PROMETHEUS_URL points there; while no spec runs it, the port is closed, which
 * is the "unreachable" state. The spec also starts a second, embedded portal without PROMETHEUS_URL on
 * BARE_PORTAL_PORT for the "not configured" state.
 */
export const PROMETHEUS_PORT = Number(process.env.E2E_PROMETHEUS_PORT ?? 19090);
export const FIXTURE_PORT = Number(process.env.E2E_FIXTURE_PORT ?? 19091);
export const BARE_PORTAL_PORT = Number(process.env.E2E_BARE_PORT ?? 19092);
/**
 * How often /pool refreshes in the e2e portal, and its p95 target: far below the fixtures' ~112 ms p95, so
 * that about 85 % of requests are slower and both window pairs of the burn-rate alert fire.
 */
export const POOL_REFRESH_S = 3;
export const POOL_P95_TARGET_MS = 25;

/**
 * SIEM delivery: the e2e portal sends to a Splunk HEC stand-in on this port (E2E_HEC_PORT, default 19100),
 * which e2e/audit.spec.ts starts, with this token.
 */
export const E2E_HEC_PORT = Number(process.env.E2E_HEC_PORT ?? 19100);
export const E2E_HEC_URL = `http://127.0.0.1:${E2E_HEC_PORT}/services/collector/event`;
export const E2E_HEC_TOKEN = 'e2e-hec-token-7c1f0a52';

/** The witness (`npm run audit:witness`) that e2e/serve.ts runs beside the portal listens here (E2E_WITNESS_PORT). */
export const E2E_WITNESS_PORT = Number(process.env.E2E_WITNESS_PORT ?? 19101);
