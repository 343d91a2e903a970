import { type CDPSession, test as base } from '@playwright/test';

/** Chromium's virtual FIDO2 authenticator, attached over CDP (WebAuthn domain). */
export interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
  credentials(): Promise<
    Array<{
      credentialId: string;
      isResidentCredential: boolean;
      signCount: number;
      privateKey: string;
      userHandle?: string;
      rpId?: string;
    }>
  >;
}

export interface AuthenticatorOptions {
  isUserVerified?: boolean;
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
}

export async function attachAuthenticator(
  cdp: CDPSession,
  options: AuthenticatorOptions = {},
): Promise<VirtualAuthenticator> {
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'usb',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: options.isUserVerified ?? true,
      automaticPresenceSimulation: true,
      ...(options.defaultBackupEligibility !== undefined && {
        defaultBackupEligibility: options.defaultBackupEligibility,
      }),
      ...(options.defaultBackupState !== undefined && { defaultBackupState: options.defaultBackupState }),
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

export const test = base.extend<{ authenticator: VirtualAuthenticator }>({
  authenticator: async ({ page }, use) => {
    const cdp = await page.context().newCDPSession(page);
    await use(await attachAuthenticator(cdp));
    await cdp.detach().catch(() => {});
  },
});

export { expect } from '@playwright/test';
