import crypto from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { Db } from '@/db/client';
import { staffCredentials } from '@/db/schema';
import { config, VIRTUAL_AUTHENTICATOR_AAGUID } from '@/lib/config';

const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;

/**
 * A software FIDO2 key (ES256) enrolled straight into the database for `staffId`: it signs real WebAuthn
 * assertions, so a test can reach the checks that run after the signature verified.
 */
export async function softwareKey(db: Db, staffId: string, opts: { counter?: number } = {}) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]),
  );
  const id = crypto.randomBytes(32).toString('base64url');
  let counter = opts.counter ?? 0;
  await db.insert(staffCredentials).values({
    id,
    staffId,
    publicKey: Buffer.from(cose).toString('base64url'),
    counter,
    aaguid: VIRTUAL_AUTHENTICATOR_AAGUID,
    backedUp: false,
    deviceType: 'singleDevice',
    nickname: 'Software key',
  });
  return {
    id,
    /** An assertion for `challenge`; `backedUp` sets the backup flags, `counter` overrides the next count. */
    assert(challenge: string, o: { backedUp?: boolean; counter?: number } = {}) {
      counter = o.counter ?? counter + 1;
      const c = config();
      const count = Buffer.alloc(4);
      count.writeUInt32BE(counter);
      const authenticatorData = Buffer.concat([
        crypto.createHash('sha256').update(c.WEBAUTHN_RP_ID).digest(),
        Buffer.from([UP | UV | (o.backedUp ? BE | BS : 0)]),
        count,
      ]);
      const clientDataJSON = Buffer.from(
        JSON.stringify({ type: 'webauthn.get', challenge, origin: c.PORTAL_URL, crossOrigin: false }),
      );
      const signature = crypto.sign(
        'sha256',
        Buffer.concat([authenticatorData, crypto.createHash('sha256').update(clientDataJSON).digest()]),
        privateKey,
      );
      return {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: clientDataJSON.toString('base64url'),
          authenticatorData: authenticatorData.toString('base64url'),
          signature: signature.toString('base64url'),
        },
        clientExtensionResults: {},
      };
    },
  };
}
