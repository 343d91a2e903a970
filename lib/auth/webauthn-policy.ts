/**
 * The security-key policy of DESIGN.md §4: the options staff browsers get, and what a registration or an
 * assertion must show before it is accepted. Every function takes the configuration as a parameter
 * (default: config()) so that tests can run several policies in one process.
 *
 * Attestation trust (WEBAUTHN_ATTESTATION_TRUST):
 * - `mds`: only `packed` attestation with a certificate (x5c) whose AAGUID has a metadata statement in the
 *   FIDO MDS3 blob of WEBAUTHN_MDS_FILE, without a compromise report, and whose x5c chains to one of the
 *   statement's attestationRootCertificates. The blob is read from the file and verified once.
 * - `relaxed` (local only): any attestation format SimpleWebAuthn can verify, `none` included.
 * Both refuse an assertion without user verification and a credential that is, or can be, backed up, and
 * both apply WEBAUTHN_AAGUID_ALLOWLIST when it is not empty.
 *
 * SimpleWebAuthn's MetadataService is deliberately left uninitialised, in both modes, and its checks are
 * made here instead (checkMetadata). Its chain check accepts a self-signed attestation certificate only if
 * it is byte-identical to a metadata root, and Chromium's virtual authenticator, which the e2e suite runs
 * in mds mode, signs itself a new one for every credential (see chainsToRoot). With MetadataService
 * uninitialised, verifyRegistrationResponse still verifies every attestation signature, and for `packed`
 * with x5c it checks the certificate's fields and validity but no chain (no roots are set for `packed`);
 * that is all relaxed mode needs. Initialising MetadataService elsewhere would only add checks.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import {
  type AlgSign,
  type AuthenticationResponseJSON,
  type AuthenticatorStatus,
  type GenerateAuthenticationOptionsOpts,
  type GenerateRegistrationOptionsOpts,
  type MetadataStatement,
  type RegistrationResponseJSON,
  SettingsService,
  SimpleWebAuthnError,
  type Uint8Array_,
  type VerifiedAuthenticationResponse,
  type VerifiedRegistrationResponse,
  type WebAuthnCredential,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import {
  convertCertBufferToPEM,
  cose,
  decodeAttestationObject,
  decodeCredentialPublicKey,
  validateCertificatePath,
  verifyMDSBlob,
} from '@simplewebauthn/server/helpers';
import { type Config, config, VIRTUAL_AUTHENTICATOR_AAGUID } from '@/lib/config';

export type PolicyConfig = Pick<
  Config,
  | 'PORTAL_ENV'
  | 'PORTAL_URL'
  | 'WEBAUTHN_RP_ID'
  | 'WEBAUTHN_ATTESTATION_TRUST'
  | 'WEBAUTHN_MDS_FILE'
  | 'WEBAUTHN_MDS_ROOT_FILE'
  | 'WEBAUTHN_AAGUID_ALLOWLIST'
>;

export type RegistrationInfo = Extract<VerifiedRegistrationResponse, { verified: true }>['registrationInfo'];
export type AuthenticationInfo = VerifiedAuthenticationResponse['authenticationInfo'];

export const RP_NAME = 'Arbitex staff portal';
/**
 * ES256 and EdDSA. Every FIDO2 security key does ES256; RS256 is for platform authenticators (Windows
 * Hello TPMs), which cross-platform attachment excludes anyway.
 */
export const SUPPORTED_ALGORITHM_IDS = [cose.COSEALG.ES256, cose.COSEALG.EdDSA];
const CEREMONY_TIMEOUT_MS = 120_000;
const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';
/** Status reports after which no key of that model is trusted, whatever its firmware version. */
const COMPROMISED: ReadonlySet<AuthenticatorStatus> = new Set<AuthenticatorStatus>([
  'USER_VERIFICATION_BYPASS',
  'ATTESTATION_KEY_COMPROMISE',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
  'REVOKED',
]);
/** The metadata names of the algorithms in SUPPORTED_ALGORITHM_IDS, as COSE key parameters. */
const ALG_SIGN: Partial<Record<AlgSign, { kty: number; alg: number; crv: number }>> = {
  secp256r1_ecdsa_sha256_raw: { kty: cose.COSEKTY.EC2, alg: cose.COSEALG.ES256, crv: cose.COSECRV.P256 },
  secp256r1_ecdsa_sha256_der: { kty: cose.COSEKTY.EC2, alg: cose.COSEALG.ES256, crv: cose.COSECRV.P256 },
  ed25519_eddsa_sha512_raw: { kty: cose.COSEKTY.OKP, alg: cose.COSEALG.EdDSA, crv: cose.COSECRV.ED25519 },
};

export type WebAuthnPolicyReason =
  | 'user_not_verified'
  | 'user_not_present'
  | 'backed_up'
  | 'attestation_format'
  | 'self_attestation'
  | 'attestation_invalid'
  | 'attestation_untrusted'
  | 'unknown_authenticator'
  | 'authenticator_compromised'
  | 'metadata_mismatch'
  | 'aaguid_missing'
  | 'aaguid_not_allowed'
  | 'virtual_authenticator'
  | 'origin_mismatch'
  | 'rp_id_mismatch'
  | 'challenge_mismatch'
  | 'wrong_ceremony'
  | 'unsupported_algorithm'
  | 'counter_regression'
  | 'signature_invalid'
  | 'invalid_response';

/** A security key, or its answer, that the policy refuses. The message is for the staff member. */
export class WebAuthnPolicyError extends Error {
  constructor(
    readonly reason: WebAuthnPolicyReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WebAuthnPolicyError';
  }
}

/** The MDS blob or its root cannot be used: a fault of the server's configuration, not of the key. */
export class AttestationTrustError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AttestationTrustError';
  }
}

const USER_NOT_VERIFIED =
  'This security key did not verify the user (PIN or biometric). User verification is required: set a PIN on the key, or use a key with a fingerprint reader.';

// ---------------------------------------------------------------------------------------------------------
// Options

/** What generateRegistrationOptions needs besides the user (userName, userID, userDisplayName) and excludeCredentials. */
export function registrationOptions(
  cfg: Pick<PolicyConfig, 'WEBAUTHN_RP_ID'> = config(),
): Omit<GenerateRegistrationOptionsOpts, 'userName'> {
  return {
    rpName: RP_NAME,
    rpID: cfg.WEBAUTHN_RP_ID,
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: 'direct',
    authenticatorSelection: {
      authenticatorAttachment: 'cross-platform',
      residentKey: 'required',
      userVerification: 'required',
    },
    preferredAuthenticatorType: 'securityKey',
    supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
  };
}

/** What generateAuthenticationOptions needs besides allowCredentials (none: every discoverable key). */
export function authenticationOptions(
  cfg: Pick<PolicyConfig, 'WEBAUTHN_RP_ID'> = config(),
): GenerateAuthenticationOptionsOpts {
  return { rpID: cfg.WEBAUTHN_RP_ID, userVerification: 'required', timeout: CEREMONY_TIMEOUT_MS };
}

// ---------------------------------------------------------------------------------------------------------
// Attestation trust

export type AttestationTrust =
  | { readonly mode: 'relaxed' }
  | {
      readonly mode: 'mds';
      readonly file: string;
      /** The blob's serial number and `nextUpdate` (YYYY-MM-DD); a blob past it is stale. */
      readonly no: number;
      readonly nextUpdate: string;
      /** By lower-case AAGUID; models with a compromise report are only in `compromised`. */
      readonly statements: ReadonlyMap<string, MetadataStatement>;
      readonly compromised: ReadonlyMap<string, readonly AuthenticatorStatus[]>;
    };

type TrustConfig = Pick<
  PolicyConfig,
  'WEBAUTHN_ATTESTATION_TRUST' | 'WEBAUTHN_MDS_FILE' | 'WEBAUTHN_MDS_ROOT_FILE'
>;

const RELAXED: AttestationTrust = { mode: 'relaxed' };
const loaded = new Map<string, Promise<AttestationTrust>>();

/**
 * The attestation trust of `cfg`, read and verified once per (file, root file). A load that fails is
 * forgotten, so the next call reads the files again.
 *
 * Network: verifyMDSBlob's certificate path validation (validateCertificatePath → isCertRevoked) downloads
 * the CRL of every certificate in the blob's chain that names a CRL distribution point, with the global
 * fetch and no timeout of its own; a CRL that cannot be downloaded is skipped, i.e. treated as "not
 * revoked". The test chain of e2e/fixtures/mds names none, so nothing is fetched. The FIDO Alliance's real
 * blob is signed by a GlobalSign-issued certificate, and public CA certificates name CRLs: on a closed
 * network its first load waits for those downloads to fail, then accepts the blob without a revocation
 * check. Attestation chains are validated the same way (chainsToRoot), so a key whose attestation
 * certificates name a CRL causes a download at enrolment.
 */
export function loadTrust(cfg: TrustConfig = config()): Promise<AttestationTrust> {
  if (cfg.WEBAUTHN_ATTESTATION_TRUST === 'relaxed') return Promise.resolve(RELAXED);
  const key = JSON.stringify([cfg.WEBAUTHN_MDS_FILE, cfg.WEBAUTHN_MDS_ROOT_FILE]);
  let trust = loaded.get(key);
  if (!trust) {
    trust = readMdsTrust(cfg.WEBAUTHN_MDS_FILE, cfg.WEBAUTHN_MDS_ROOT_FILE);
    loaded.set(key, trust);
    trust.catch(() => loaded.delete(key));
  }
  return trust;
}

async function readMdsTrust(
  file: string | undefined,
  rootFile: string | undefined,
): Promise<AttestationTrust> {
  if (!file) {
    throw new AttestationTrustError(
      'WEBAUTHN_ATTESTATION_TRUST is mds but WEBAUTHN_MDS_FILE is not set: name the file holding the FIDO MDS3 blob.',
    );
  }
  const blob = (await readSetting('WEBAUTHN_MDS_FILE', file)).trim();
  const roots = rootFile
    ? rootCertificates(rootFile, await readSetting('WEBAUTHN_MDS_ROOT_FILE', rootFile))
    : null;
  const signer = rootFile
    ? `the root certificate in WEBAUTHN_MDS_ROOT_FILE (${rootFile})`
    : "the FIDO Alliance's root";
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(blob)) {
    throw new AttestationTrustError(`WEBAUTHN_MDS_FILE (${file}) does not hold a FIDO MDS3 blob (a JWT).`);
  }
  let verified: Awaited<ReturnType<typeof verifyMDSBlob>>;
  try {
    verified = await verifyBlob(blob, roots);
  } catch (err) {
    throw new AttestationTrustError(
      `WEBAUTHN_MDS_FILE (${file}) is not a FIDO MDS3 blob signed under ${signer}: ${describe(err)}`,
      { cause: err },
    );
  }
  const statements = new Map<string, MetadataStatement>();
  const compromised = new Map<string, AuthenticatorStatus[]>();
  for (const entry of verified.payload.entries) {
    const aaguid = entry.aaguid?.toLowerCase();
    if (!aaguid || !entry.metadataStatement) continue;
    const bad = (entry.statusReports ?? []).map((r) => r.status).filter((s) => COMPROMISED.has(s));
    if (bad.length > 0) compromised.set(aaguid, bad);
    else statements.set(aaguid, entry.metadataStatement);
  }
  return {
    mode: 'mds',
    file,
    no: verified.payload.no,
    nextUpdate: verified.payload.nextUpdate,
    statements,
    compromised,
  };
}

/** verifyMDSBlob under `roots` (null: SimpleWebAuthn's built-in FIDO root), leaving the global setting as it was. */
function verifyBlob(blob: string, roots: string[] | null): ReturnType<typeof verifyMDSBlob> {
  if (!roots) return verifyMDSBlob(blob);
  const previous = SettingsService.getRootCertificates({ identifier: 'mds' });
  SettingsService.setRootCertificates({ identifier: 'mds', certificates: roots });
  try {
    // verifyMDSBlob reads the roots synchronously, before its first await, so they can be restored at once.
    return verifyMDSBlob(blob);
  } finally {
    SettingsService.setRootCertificates({ identifier: 'mds', certificates: previous });
  }
}

async function readSetting(name: string, file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new AttestationTrustError(`${name} (${file}) cannot be read: ${describe(err)}`, { cause: err });
  }
}

function rootCertificates(file: string, text: string): string[] {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) {
    throw new AttestationTrustError(`WEBAUTHN_MDS_ROOT_FILE (${file}) holds no PEM certificate.`);
  }
  for (const pem of pems) {
    try {
      new crypto.X509Certificate(pem);
    } catch (err) {
      throw new AttestationTrustError(
        `WEBAUTHN_MDS_ROOT_FILE (${file}) holds a certificate that cannot be parsed.`,
        {
          cause: err,
        },
      );
    }
  }
  return pems.map((pem) => `${pem}\n`);
}

function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) parts.push(e.message);
  return parts.join(': ') || String(err);
}

// ---------------------------------------------------------------------------------------------------------
// Registration

/**
 * verifyRegistrationResponse against the portal's origin and RP ID with user verification required, then
 * checkRegistration. Every refusal is a WebAuthnPolicyError; a broken MDS file is an AttestationTrustError.
 */
export async function verifyRegistration(
  input: { response: RegistrationResponseJSON; expectedChallenge: string },
  cfg: PolicyConfig = config(),
): Promise<RegistrationInfo> {
  // First, so that a broken MDS file is reported as such rather than as a problem with the key.
  await loadTrust(cfg);
  let result: VerifiedRegistrationResponse;
  try {
    result = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: cfg.PORTAL_URL,
      expectedRPID: cfg.WEBAUTHN_RP_ID,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
    });
  } catch (err) {
    throw fromLibraryError(err, cfg);
  }
  if (!result.verified) {
    throw new WebAuthnPolicyError(
      'signature_invalid',
      "The security key's attestation signature is not valid.",
    );
  }
  await checkRegistration(result.registrationInfo, cfg);
  return result.registrationInfo;
}

/** The policy's checks on a registration that SimpleWebAuthn has verified. */
export async function checkRegistration(info: RegistrationInfo, cfg: PolicyConfig = config()): Promise<void> {
  if (!info.userVerified) throw new WebAuthnPolicyError('user_not_verified', USER_NOT_VERIFIED);
  if (info.credentialDeviceType !== 'singleDevice' || info.credentialBackedUp) {
    throw new WebAuthnPolicyError(
      'backed_up',
      'This credential can be backed up or synced (a passkey kept by a password manager or a cloud account), so it is not bound to one security key. The staff portal accepts only hardware security keys whose credentials never leave the key.',
    );
  }
  const aaguid = info.aaguid.toLowerCase();
  if (cfg.PORTAL_ENV === 'production' && aaguid === VIRTUAL_AUTHENTICATOR_AAGUID) {
    throw new WebAuthnPolicyError(
      'virtual_authenticator',
      "This is Chromium's virtual test authenticator, which is never accepted in production.",
    );
  }
  const trust = await loadTrust(cfg);
  const attestation = trust.mode === 'mds' ? fullAttestation(info) : undefined;

  const allowList = cfg.WEBAUTHN_AAGUID_ALLOWLIST.map((a) => a.toLowerCase());
  // A zero AAGUID is what browsers send when attestation is not passed on; relaxed mode accepts that.
  if (aaguid === ZERO_AAGUID && (trust.mode === 'mds' || allowList.length > 0)) {
    throw new WebAuthnPolicyError(
      'aaguid_missing',
      'This security key did not say which model it is (its AAGUID is all zeros), so it cannot be checked against the approved models.',
    );
  }
  if (allowList.length > 0 && !allowList.includes(aaguid)) {
    throw new WebAuthnPolicyError(
      'aaguid_not_allowed',
      `This security key model (AAGUID ${aaguid}) is not on the portal's list of approved security keys. Use one of the approved models.`,
    );
  }
  if (trust.mode === 'mds' && attestation) await checkMetadata(info, aaguid, attestation, trust);
}

interface FullAttestation {
  x5c: Uint8Array_[];
  alg: number | undefined;
}

/** The certificates and algorithm of a `packed` full attestation; anything else is refused. */
function fullAttestation(info: RegistrationInfo): FullAttestation {
  if (info.fmt === 'none') {
    throw new WebAuthnPolicyError(
      'attestation_format',
      "The browser did not pass on the security key's attestation (its make and model), which the staff portal requires. If the browser asks whether to share the security key's make and model, allow it, then try again.",
    );
  }
  if (info.fmt !== 'packed') {
    throw new WebAuthnPolicyError(
      'attestation_format',
      `This authenticator's attestation format (${info.fmt}) is not accepted: the staff portal accepts hardware security keys with FIDO "packed" attestation.`,
    );
  }
  const attStmt = decodeAttestationObject(info.attestationObject).get('attStmt');
  const x5c = attStmt.get('x5c');
  if (!x5c?.length) {
    throw new WebAuthnPolicyError(
      'self_attestation',
      'This security key only vouches for itself (self attestation), so its make and model cannot be verified. Use a FIDO-certified security key.',
    );
  }
  return { x5c, alg: attStmt.get('alg') };
}

/** What SimpleWebAuthn's MetadataService would check (verifyAttestationWithMetadata), on our statements. */
async function checkMetadata(
  info: RegistrationInfo,
  aaguid: string,
  { x5c, alg: attestationAlg }: FullAttestation,
  trust: Extract<AttestationTrust, { mode: 'mds' }>,
): Promise<void> {
  const statuses = trust.compromised.get(aaguid);
  if (statuses) {
    throw new WebAuthnPolicyError(
      'authenticator_compromised',
      `This security key model (AAGUID ${aaguid}) has a security problem reported to the FIDO Alliance (${statuses.join(', ')}), so it cannot be enrolled.`,
    );
  }
  const statement = trust.statements.get(aaguid);
  if (!statement) {
    throw new WebAuthnPolicyError(
      'unknown_authenticator',
      `This security key model (AAGUID ${aaguid}) is not in the FIDO metadata the portal trusts, so it cannot be verified as genuine.`,
    );
  }
  const mismatch = (what: string) =>
    new WebAuthnPolicyError(
      'metadata_mismatch',
      `This security key does not match its model's FIDO metadata (${what}), so it cannot be verified as genuine.`,
    );
  if (!statement.attestationTypes.includes('basic_full'))
    throw mismatch('the model does not do full attestation');
  const key = decodeCredentialPublicKey(info.credential.publicKey);
  const kty = key.get(cose.COSEKEYS.kty);
  const alg = key.get(cose.COSEKEYS.alg);
  const crv =
    cose.isCOSEPublicKeyEC2(key) || cose.isCOSEPublicKeyOKP(key) ? key.get(cose.COSEKEYS.crv) : undefined;
  const listed = statement.authenticationAlgorithms.some((name) => {
    const a = ALG_SIGN[name];
    return a !== undefined && a.kty === kty && a.alg === alg && a.crv === crv;
  });
  if (!listed) throw mismatch(`its key algorithm ${alg} is not one the model lists`);
  const getInfoAlgs = statement.authenticatorGetInfo?.algorithms?.map((a) => a.alg);
  if (getInfoAlgs && attestationAlg !== undefined && !getInfoAlgs.includes(attestationAlg)) {
    throw mismatch(`its attestation algorithm ${attestationAlg} is not one the model lists`);
  }
  const chained = await chainsToRoot(x5c, statement.attestationRootCertificates);
  if (chained !== true) {
    throw new WebAuthnPolicyError(
      'attestation_untrusted',
      "This security key's attestation certificate does not chain to its maker's root certificate in the FIDO metadata, so it cannot be verified as genuine.",
      { cause: chained },
    );
  }
}

/**
 * Whether x5c chains to one of `rootsBase64` (DER, base64): true, or the reason it does not.
 *
 * A trust anchor is a name and a public key (RFC 5280 §6.1.1), so an attestation certificate with the
 * subject and key of a root is trusted as that root, which is SimpleWebAuthn's byte-for-byte
 * "self-referencing" rule, generalised. Chromium's virtual authenticator needs it: it issues itself a new
 * self-signed batch certificate, with the same subject and key, for every credential.
 */
async function chainsToRoot(x5c: Uint8Array_[], rootsBase64: string[]): Promise<true | Error> {
  const [first] = x5c;
  if (!first) return new Error('no attestation certificate');
  const roots: crypto.X509Certificate[] = [];
  for (const b64 of rootsBase64) {
    try {
      roots.push(new crypto.X509Certificate(Buffer.from(b64, 'base64')));
    } catch {
      // An unparseable root in the metadata anchors nothing.
    }
  }
  // validateCertificatePath accepts anything when it is given no root.
  if (roots.length === 0) return new Error('the metadata statement lists no attestation root certificate');
  const leaf = new crypto.X509Certificate(first);
  const leafKey = leaf.publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  for (const root of roots) {
    const current = Date.parse(root.validFrom) <= now && now <= Date.parse(root.validTo);
    if (
      current &&
      root.subject === leaf.subject &&
      root.publicKey.export({ type: 'spki', format: 'der' }).equals(leafKey)
    )
      return true;
  }
  try {
    await validateCertificatePath(
      x5c.map((c) => convertCertBufferToPEM(c)),
      roots.map((r) => r.toString()),
    );
    return true;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Authentication

/**
 * verifyAuthenticationResponse against the portal's origin and RP ID with user verification required, then
 * checkAuthentication. The caller applies the counter rule (SimpleWebAuthn only refuses a lower counter).
 */
export async function verifyAuthentication(
  input: {
    response: AuthenticationResponseJSON;
    expectedChallenge: string;
    credential: WebAuthnCredential;
    /** Called once the signature has verified with the credential's key, before the policy's checks. */
    onSignatureVerified?: () => void;
  },
  cfg: Pick<PolicyConfig, 'PORTAL_URL' | 'WEBAUTHN_RP_ID'> = config(),
): Promise<AuthenticationInfo> {
  let result: VerifiedAuthenticationResponse;
  try {
    result = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: cfg.PORTAL_URL,
      expectedRPID: cfg.WEBAUTHN_RP_ID,
      credential: input.credential,
      requireUserVerification: true,
    });
  } catch (err) {
    throw fromLibraryError(err, cfg);
  }
  if (!result.verified) {
    throw new WebAuthnPolicyError(
      'signature_invalid',
      "The security key's signature is not valid for this credential.",
    );
  }
  input.onSignatureVerified?.();
  checkAuthentication(result.authenticationInfo);
  return result.authenticationInfo;
}

/** The policy's checks on an assertion, at every sign-in and step-up. */
export function checkAuthentication(info: AuthenticationInfo): void {
  if (!info.userVerified) throw new WebAuthnPolicyError('user_not_verified', USER_NOT_VERIFIED);
  if (info.credentialDeviceType !== 'singleDevice' || info.credentialBackedUp) {
    throw new WebAuthnPolicyError(
      'backed_up',
      'This credential now reports that it can be backed up or synced, so it is no longer bound to one security key. Sign-in with it is refused; use another enrolled hardware security key.',
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// SimpleWebAuthn's errors, which are plain Errors told apart only by their messages

const LIBRARY_ERRORS: Array<[RegExp, WebAuthnPolicyReason]> = [
  [/^Unexpected (registration|authentication) response origin/, 'origin_mismatch'],
  [/^(Detected cross-origin|Unexpected cross-origin|Unexpected top origin)/, 'origin_mismatch'],
  [
    /^(Unexpected (registration|authentication) response challenge|Custom challenge verifier)/,
    'challenge_mismatch',
  ],
  [/^Unexpected RP ID hash/, 'rp_id_mismatch'],
  [/^User verification (was )?required/, 'user_not_verified'],
  [/^User (presence was required|not present)/, 'user_not_present'],
  [/^Unexpected (registration|authentication) response type/, 'wrong_ceremony'],
  [/^Unexpected public key alg/, 'unsupported_algorithm'],
  [/^No metadata statement found/, 'unknown_authenticator'],
  [/^Detected compromised aaguid/, 'authenticator_compromised'],
  [/^Response counter value/, 'counter_regression'],
  [/attestation|\((Packed|Packed\|Full|FIDOU2F|TPM|Android Key|SafetyNet|Apple)\)$/i, 'attestation_invalid'],
];

function fromLibraryError(
  err: unknown,
  cfg: Pick<PolicyConfig, 'PORTAL_URL' | 'WEBAUTHN_RP_ID'>,
): WebAuthnPolicyError {
  const text = err instanceof Error ? err.message : String(err);
  const reason: WebAuthnPolicyReason =
    err instanceof SimpleWebAuthnError && err.code === 'CERTIFICATE_PATH_VERIFICATION_FAILED'
      ? 'attestation_invalid'
      : (LIBRARY_ERRORS.find(([pattern]) => pattern.test(text))?.[1] ?? 'invalid_response');
  return new WebAuthnPolicyError(reason, libraryErrorMessage(reason, cfg), { cause: err });
}

function libraryErrorMessage(
  reason: WebAuthnPolicyReason,
  cfg: Pick<PolicyConfig, 'PORTAL_URL' | 'WEBAUTHN_RP_ID'>,
): string {
  switch (reason) {
    case 'origin_mismatch':
      return `This security-key request did not come from the portal's own address (${cfg.PORTAL_URL}). Open the portal at ${cfg.PORTAL_URL} and try again.`;
    case 'challenge_mismatch':
      return 'This security-key answer does not match the request the portal made (it may have expired or been used already). Start again.';
    case 'rp_id_mismatch':
      return `This credential was made for another site, not for ${cfg.WEBAUTHN_RP_ID}.`;
    case 'user_not_verified':
      return USER_NOT_VERIFIED;
    case 'user_not_present':
      return 'The security key did not confirm that someone touched it. Touch the key when it blinks.';
    case 'wrong_ceremony':
      return 'The browser answered a different kind of security-key request. Start again.';
    case 'unsupported_algorithm':
      return 'This security key made a credential with a key algorithm the portal does not accept (ES256 or EdDSA are required).';
    case 'unknown_authenticator':
      return 'This security key model is not in the FIDO metadata the portal trusts, so it cannot be verified as genuine.';
    case 'authenticator_compromised':
      return 'This security key model has a security problem reported to the FIDO Alliance, so it cannot be enrolled.';
    case 'counter_regression':
      return 'This security key reported a signature counter that went backwards, a sign that it may have been cloned.';
    case 'attestation_invalid':
      return "This security key's attestation (its proof of make and model) could not be verified, so it cannot be enrolled.";
    default:
      return "The security key's answer could not be verified. Try again.";
  }
}
