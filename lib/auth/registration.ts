import crypto from 'node:crypto';
import { generateRegistrationOptions } from '@simplewebauthn/server';
import type { Db, Tx } from '@/db/client';
import { staffCredentials } from '@/db/schema';
import { storeChallenge } from '@/lib/auth/challenges';
import type { RegistrationResponse } from '@/lib/auth/webauthn-json';
import { registrationOptions, verifyRegistration, WebAuthnPolicyError } from '@/lib/auth/webauthn-policy';
import { AppError } from '@/lib/errors';

/** Starts a registration ceremony for `user`, excluding the keys they already have. */
export async function beginRegistration(
  db: Db,
  user: { staffId: string | null; email: string; displayName: string },
  exclude: Array<{ id: string; transports: string[] }> = [],
) {
  const options = await generateRegistrationOptions({
    ...registrationOptions(),
    userName: user.email,
    userDisplayName: user.displayName,
    userID: new Uint8Array(crypto.randomBytes(16)),
    excludeCredentials: exclude.map((k) => ({ id: k.id, transports: k.transports })),
  });
  await storeChallenge(db, options.challenge, 'registration', user.staffId);
  return options;
}

/** A security key the registration policy refuses: 400, with the policy's message for the staff member. */
export class KeyRefusedError extends AppError {
  constructor(err: WebAuthnPolicyError) {
    super(400, 'key_refused', err.message, { reason: err.reason });
  }
}

/** Verifies a registration against the policy and stores the new credential in the caller's transaction. */
export async function storeRegistration(
  tx: Tx,
  staffId: string,
  response: RegistrationResponse,
  challenge: string,
  nickname: string,
) {
  const info = await verifyRegistration({ response, expectedChallenge: challenge }).catch((err: unknown) => {
    // The policy's refusals are the key's fault, not the server's: without this they were a 500.
    throw err instanceof WebAuthnPolicyError ? new KeyRefusedError(err) : err;
  });
  const [cred] = await tx
    .insert(staffCredentials)
    .values({
      id: info.credential.id,
      staffId,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      aaguid: info.aaguid,
      transports: info.credential.transports ?? [],
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
      nickname,
    })
    .returning();
  return { cred: cred!, fmt: info.fmt };
}
