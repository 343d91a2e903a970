import { test as base } from '@playwright/test';
import { attachAuthenticator, type VirtualAuthenticator } from './authenticator';
import { importCredential, readCredentialFile, type SavedCredential } from './credential-file';
import { LOCAL_QA_CREDENTIAL_FILE } from './files';
import { signIn } from './staff';

export {
  attachAuthenticator,
  type AuthenticatorOptions,
  type CdpCredential,
  portalCredentialId,
  type VirtualAuthenticator,
} from './authenticator';

/**
 * The QA auditor's saved key: E2E_QA_CREDENTIAL (written by `npm run e2e:qa-credential`), which a run
 * against a deployed portal must name; locally, the one e2e/bootstrap.setup.ts enrolled.
 */
export function qaCredentialFile(): string {
  if (process.env.E2E_QA_CREDENTIAL) return process.env.E2E_QA_CREDENTIAL;
  if (process.env.E2E_BASE_URL) {
    throw new Error(
      `E2E_QA_CREDENTIAL is not set. Enrol a QA auditor on ${process.env.E2E_BASE_URL} with \`npm run e2e:qa-credential -- <auditor invite URL>\` and set E2E_QA_CREDENTIAL to the file it writes.`,
    );
  }
  return LOCAL_QA_CREDENTIAL_FILE;
}

export const test = base.extend<{ authenticator: VirtualAuthenticator; qaAuditor: SavedCredential }>({
  /** A virtual security key (ctap2, usb, resident keys, user verification) on `page`. */
  authenticator: async ({ page }, use) => {
    const cdp = await page.context().newCDPSession(page);
    await use(await attachAuthenticator(cdp));
    await cdp.detach().catch(() => {});
  },

  /** `page` signed in as the QA auditor, with the saved key imported into its authenticator. */
  qaAuditor: async ({ page, authenticator, baseURL }, use) => {
    const file = qaCredentialFile();
    const portal = new URL(baseURL!).origin;
    const { portal: enrolledAt } = readCredentialFile(file);
    if (enrolledAt !== portal) {
      throw new Error(`${file} holds a key enrolled at ${enrolledAt}, not at ${portal}.`);
    }
    const saved = await importCredential(authenticator, file);
    await signIn(page);
    await use(saved);
    // Leave no session behind on the portal.
    await page.request.post('/api/session/sign-out', { headers: { Origin: portal } }).catch(() => {});
  },
});

export { expect } from '@playwright/test';
