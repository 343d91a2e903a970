import type { CDPSession } from 'playwright-core';

/**
 * Chromium's virtual FIDO2 authenticator, attached over CDP (WebAuthn domain). Free of @playwright/test so
 * that the e2e:qa-credential command can use it outside the test runner.
 */

/** A credential as CDP's WebAuthn domain has it: binary fields are base64 (not base64url). */
export interface CdpCredential {
  credentialId: string;
  isResidentCredential: boolean;
  signCount: number;
  privateKey: string;
  userHandle?: string;
  rpId?: string;
  backupEligibility?: boolean;
  backupState?: boolean;
  userName?: string;
  userDisplayName?: string;
}

export interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
  credentials(): Promise<CdpCredential[]>;
  /** Puts a credential into this authenticator, as if it had been made here. */
  addCredential(credential: CdpCredential): Promise<void>;
  /** Takes this authenticator away from the page (the key is unplugged). */
  remove(): Promise<void>;
}

export interface AuthenticatorOptions {
  /** `u2f` is a CTAP1 key: no resident keys, no user verification, fido-u2f attestation, zero AAGUID. */
  protocol?: 'ctap2' | 'u2f';
  isUserVerified?: boolean;
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
}

/**
 * A virtual security key as the portal's policy wants one: CTAP2 over USB, resident keys, user
 * verification (a PIN that is always entered correctly), presence simulated. Options make it worse.
 */
export async function attachAuthenticator(
  cdp: CDPSession,
  options: AuthenticatorOptions = {},
): Promise<VirtualAuthenticator> {
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const ctap2 = (options.protocol ?? 'ctap2') === 'ctap2';
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: ctap2 ? 'ctap2' : 'u2f',
      transport: 'usb',
      hasResidentKey: ctap2,
      hasUserVerification: ctap2,
      isUserVerified: ctap2 && (options.isUserVerified ?? true),
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
    addCredential: async (credential) => {
      await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    },
    remove: async () => {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
  };
}

/** The portal's id for a credential (base64url, as WebAuthn JSON has it) from CDP's base64. */
export function portalCredentialId(credential: Pick<CdpCredential, 'credentialId'>): string {
  return Buffer.from(credential.credentialId, 'base64').toString('base64url');
}
