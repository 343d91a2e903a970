import { z } from 'zod';
import { text } from '@/lib/text';

/** The browser's WebAuthn answers as @simplewebauthn/browser sends them, checked at the boundary. */
const b64url = text()
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')
  .max(16_384);
const extensions = z.record(z.string(), z.unknown()).default({});
const attachment = z.enum(['platform', 'cross-platform']).optional();

export const AuthenticationResponse = z.object({
  id: b64url,
  rawId: b64url,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }),
  clientExtensionResults: extensions,
  authenticatorAttachment: attachment,
});
export type AuthenticationResponse = z.infer<typeof AuthenticationResponse>;

export const RegistrationResponse = z.object({
  id: b64url,
  rawId: b64url,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url,
    authenticatorData: b64url.optional(),
    transports: z.array(text().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url.optional(),
  }),
  clientExtensionResults: extensions,
  authenticatorAttachment: attachment,
});
export type RegistrationResponse = z.infer<typeof RegistrationResponse>;
