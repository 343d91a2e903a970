/**
 * The policy against real registrations and assertions from Chromium's virtual authenticator (CDP WebAuthn
 * domain), made on a page served at http://localhost:<port>, and the test MDS blob of e2e/fixtures/mds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type GenerateRegistrationOptionsOpts,
  type RegistrationResponseJSON,
  SettingsService,
  type Uint8Array_,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { CHROMIUM_ARGS, chromiumExecutable } from '@/e2e/browser';
import { VIRTUAL_AUTHENTICATOR_AAGUID } from '@/lib/config';
import {
  authenticationOptions,
  checkRegistration,
  loadTrust,
  type PolicyConfig,
  registrationOptions,
  verifyAuthentication,
  verifyRegistration,
} from './webauthn-policy';

const FIXTURES = path.resolve(import.meta.dirname, '../../e2e/fixtures/mds');
const BLOB = path.join(FIXTURES, 'blob.jwt');
const COMPROMISED_BLOB = path.join(FIXTURES, 'compromised.jwt');
const ROOT = path.join(FIXTURES, 'root.pem');
const YUBIKEY_5_AAGUID = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

let server: http.Server;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
let origin: string;
let mds: PolicyConfig;
let relaxed: PolicyConfig;
let fetchSpy: MockInstance<typeof fetch>;

beforeAll(async () => {
  // Nothing here may use the network: SimpleWebAuthn would fetch CRLs through the global fetch.
  fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network in this test'));
  const executablePath = chromiumExecutable();
  if (!executablePath)
    throw new Error('No Chromium: install Debian chromium or run `npx playwright install chromium`.');
  server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>webauthn-policy test</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  mds = {
    PORTAL_ENV: 'local',
    PORTAL_URL: origin,
    WEBAUTHN_RP_ID: 'localhost',
    WEBAUTHN_ATTESTATION_TRUST: 'mds',
    WEBAUTHN_MDS_FILE: BLOB,
    WEBAUTHN_MDS_ROOT_FILE: ROOT,
    WEBAUTHN_AAGUID_ALLOWLIST: [],
  };
  relaxed = { ...mds, WEBAUTHN_ATTESTATION_TRUST: 'relaxed', WEBAUTHN_MDS_FILE: undefined };

  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  page = await browser.newPage();
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  await page.goto(origin);
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  expect(fetchSpy).not.toHaveBeenCalled();
  fetchSpy.mockRestore();
});

interface AuthenticatorOptions {
  hasUserVerification?: boolean;
  isUserVerified?: boolean;
  hasResidentKey?: boolean;
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
}

/** Runs `fn` with one virtual security key attached (ctap2 over usb, resident keys, UV), then removes it. */
async function withKey<T>(
  options: AuthenticatorOptions,
  fn: (authenticatorId: string) => Promise<T>,
): Promise<T> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'usb',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      ...options,
    },
  });
  try {
    return await fn(authenticatorId);
  } finally {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  }
}

type Outcome<T> = { ok: T } | { error: string };

/** navigator.credentials.create with the portal's options (and `overrides`). */
async function create(
  overrides: Partial<GenerateRegistrationOptionsOpts> = {},
): Promise<Outcome<{ response: RegistrationResponseJSON; challenge: string }>> {
  const options = await generateRegistrationOptions({
    ...registrationOptions(mds),
    userName: 'ada@example.test',
    userDisplayName: 'Ada Lovelace',
    userID: new Uint8Array(crypto.randomBytes(16)),
    ...overrides,
  });
  const result = await page.evaluate(async (json) => {
    try {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(json));
      const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
      return { ok: JSON.stringify(credential.toJSON()) };
    } catch (err) {
      return { error: `${(err as Error).name}: ${(err as Error).message}` };
    }
  }, JSON.stringify(options));
  if (result.ok === undefined) return { error: result.error };
  return {
    ok: { response: JSON.parse(result.ok) as RegistrationResponseJSON, challenge: options.challenge },
  };
}

async function register(overrides: Partial<GenerateRegistrationOptionsOpts> = {}) {
  const outcome = await create(overrides);
  if ('error' in outcome) throw new Error(`navigator.credentials.create failed: ${outcome.error}`);
  return outcome.ok;
}

/** navigator.credentials.get for `credentialId` with the portal's options (and `userVerification`). */
async function assert(credentialId: string, userVerification?: 'required' | 'discouraged') {
  const options = await generateAuthenticationOptions({
    ...authenticationOptions(mds),
    allowCredentials: [{ id: credentialId }],
    ...(userVerification && { userVerification }),
  });
  const result = await page.evaluate(async (json) => {
    try {
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(json));
      const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential;
      return { ok: JSON.stringify(credential.toJSON()) };
    } catch (err) {
      return { error: `${(err as Error).name}: ${(err as Error).message}` };
    }
  }, JSON.stringify(options));
  if (result.ok === undefined) throw new Error(`navigator.credentials.get failed: ${result.error}`);
  return { response: JSON.parse(result.ok) as AuthenticationResponseJSON, challenge: options.challenge };
}

/** A key without user verification: the only way to get an answer with the UV flag off (see below). */
const NO_UV_KEY: AuthenticatorOptions = {
  hasUserVerification: false,
  isUserVerified: false,
  hasResidentKey: false,
};
const NO_UV_OPTIONS: Partial<GenerateRegistrationOptionsOpts> = {
  authenticatorSelection: { residentKey: 'discouraged', userVerification: 'discouraged' },
};

function refused(reason: string, message?: string) {
  return expect.objectContaining({
    name: 'WebAuthnPolicyError',
    reason,
    ...(message !== undefined && { message: expect.stringContaining(message) }),
  });
}

/** The attestation object with another statement; its signature no longer verifies, which only SimpleWebAuthn checks. */
function withAttStmt(info: { attestationObject: Uint8Array_ }, attStmt: Map<string, unknown>) {
  const decoded = decodeAttestationObject(info.attestationObject);
  const encoded = isoCBOR.encode(
    new Map<string, unknown>([
      ['fmt', decoded.get('fmt')],
      ['attStmt', attStmt],
      ['authData', decoded.get('authData')],
    ]) as Parameters<typeof isoCBOR.encode>[0],
  );
  return { attestationObject: encoded };
}

describe('options', () => {
  it('asks for a user-verified, discoverable, attested credential on a cross-platform key', async () => {
    const options = await generateRegistrationOptions({
      ...registrationOptions(mds),
      userName: 'ada@example.test',
    });
    expect(options).toMatchObject({
      rp: { id: 'localhost' },
      attestation: 'direct',
      authenticatorSelection: {
        authenticatorAttachment: 'cross-platform',
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      },
      hints: ['security-key'],
    });
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-7, -8]);
    expect(authenticationOptions(mds)).toMatchObject({ rpID: 'localhost', userVerification: 'required' });
  });
});

describe('mds trust', () => {
  it("accepts the virtual authenticator's packed attestation, and its assertions", async () => {
    await withKey({}, async () => {
      const { response, challenge } = await register();
      const info = await verifyRegistration({ response, expectedChallenge: challenge }, mds);
      expect(info).toMatchObject({
        fmt: 'packed',
        aaguid: VIRTUAL_AUTHENTICATOR_AAGUID,
        userVerified: true,
        credentialDeviceType: 'singleDevice',
        credentialBackedUp: false,
      });
      // Allowed models: the list may name it.
      await checkRegistration(info, { ...mds, WEBAUTHN_AAGUID_ALLOWLIST: [VIRTUAL_AUTHENTICATOR_AAGUID] });

      const assertion = await assert(info.credential.id);
      const auth = await verifyAuthentication(
        { response: assertion.response, expectedChallenge: assertion.challenge, credential: info.credential },
        mds,
      );
      expect(auth).toMatchObject({
        userVerified: true,
        credentialBackedUp: false,
        credentialID: info.credential.id,
      });
      expect(auth.newCounter).toBeGreaterThan(info.credential.counter);
    });
  });

  it('refuses a model that is not on a non-empty allow-list', async () => {
    await withKey({}, async () => {
      const { response, challenge } = await register();
      await expect(
        verifyRegistration(
          { response, expectedChallenge: challenge },
          { ...mds, WEBAUTHN_AAGUID_ALLOWLIST: [YUBIKEY_5_AAGUID] },
        ),
      ).rejects.toEqual(refused('aaguid_not_allowed', `AAGUID ${VIRTUAL_AUTHENTICATOR_AAGUID}`));
    });
  });

  it('refuses a model whose metadata reports a compromise', async () => {
    await withKey({}, async () => {
      const { response, challenge } = await register();
      await expect(
        verifyRegistration(
          { response, expectedChallenge: challenge },
          { ...mds, WEBAUTHN_MDS_FILE: COMPROMISED_BLOB },
        ),
      ).rejects.toEqual(refused('authenticator_compromised', 'ATTESTATION_KEY_COMPROMISE'));
    });
  });

  it('refuses attestation "none", self attestation, other models and foreign certificates', async () => {
    await withKey({}, async () => {
      const none = await register({ attestationType: 'none' });
      await expect(
        verifyRegistration({ response: none.response, expectedChallenge: none.challenge }, mds),
      ).rejects.toEqual(refused('attestation_format', 'make and model'));

      const { response, challenge } = await register();
      const info = await verifyRegistration({ response, expectedChallenge: challenge }, mds);
      await expect(checkRegistration({ ...info, aaguid: YUBIKEY_5_AAGUID }, mds)).rejects.toEqual(
        refused('unknown_authenticator'),
      );
      const attStmt = decodeAttestationObject(info.attestationObject).get('attStmt');
      const self = withAttStmt(
        info,
        new Map<string, unknown>([
          ['alg', attStmt.get('alg')],
          ['sig', attStmt.get('sig')],
        ]),
      );
      await expect(checkRegistration({ ...info, ...self }, mds)).rejects.toEqual(refused('self_attestation'));

      // A certificate that is not the batch certificate's subject and key, nor chains to it.
      const foreign = new crypto.X509Certificate(fs.readFileSync(ROOT)).raw;
      const swapped = withAttStmt(
        info,
        new Map<string, unknown>([
          ['alg', attStmt.get('alg')],
          ['sig', attStmt.get('sig')],
          ['x5c', [new Uint8Array(foreign)]],
        ]),
      );
      await expect(checkRegistration({ ...info, ...swapped }, mds)).rejects.toEqual(
        refused('attestation_untrusted'),
      );
      // Through SimpleWebAuthn, the swapped certificate fails its own checks first.
      const tampered = { ...response, response: { ...response.response, ...b64(swapped) } };
      await expect(
        verifyRegistration({ response: tampered, expectedChallenge: challenge }, mds),
      ).rejects.toEqual(refused('attestation_invalid'));
    });
  });

  it('refuses a key that does not verify the user', async () => {
    // With UV configured but failing (isUserVerified: false), Chromium refuses the ceremony itself, even
    // with userVerification "discouraged": no answer reaches the server.
    await withKey({ isUserVerified: false }, async () => {
      expect(await create()).toEqual({ error: expect.stringMatching(/^NotAllowedError/) });
      expect(await create(NO_UV_OPTIONS)).toEqual({ error: expect.stringMatching(/^NotAllowedError/) });
    });
    // A key without UV answers with the UV flag off.
    await withKey(NO_UV_KEY, async () => {
      const { response, challenge } = await register(NO_UV_OPTIONS);
      await expect(verifyRegistration({ response, expectedChallenge: challenge }, mds)).rejects.toEqual(
        refused('user_not_verified', 'did not verify the user (PIN or biometric)'),
      );
      const unchecked = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: origin,
        expectedRPID: 'localhost',
        requireUserVerification: false,
      });
      expect(unchecked.registrationInfo?.userVerified).toBe(false);
      await expect(checkRegistration(unchecked.registrationInfo!, mds)).rejects.toEqual(
        refused('user_not_verified'),
      );

      const credential = unchecked.registrationInfo!.credential;
      const assertion = await assert(credential.id, 'discouraged');
      await expect(
        verifyAuthentication(
          { response: assertion.response, expectedChallenge: assertion.challenge, credential },
          mds,
        ),
      ).rejects.toEqual(refused('user_not_verified', 'did not verify the user (PIN or biometric)'));
    });
  });

  it('refuses a backed-up or backup-eligible credential at registration', async () => {
    for (const defaultBackupState of [true, false]) {
      await withKey({ defaultBackupEligibility: true, defaultBackupState }, async () => {
        const { response, challenge } = await register();
        await expect(verifyRegistration({ response, expectedChallenge: challenge }, mds)).rejects.toEqual(
          refused('backed_up', 'backed up or synced'),
        );
      });
    }
  });

  it('refuses an assertion once the credential reports backup flags', async () => {
    await withKey({}, async (authenticatorId) => {
      const { response, challenge } = await register();
      const info = await verifyRegistration({ response, expectedChallenge: challenge }, mds);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      const [stored] = credentials;
      expect(stored && isoBase64URL.fromBuffer(Buffer.from(stored.credentialId, 'base64'))).toBe(
        info.credential.id,
      );
      await cdp.send('WebAuthn.setCredentialProperties', {
        authenticatorId,
        credentialId: stored!.credentialId,
        backupEligibility: true,
        backupState: true,
      });
      const assertion = await assert(info.credential.id);
      await expect(
        verifyAuthentication(
          {
            response: assertion.response,
            expectedChallenge: assertion.challenge,
            credential: info.credential,
          },
          mds,
        ),
      ).rejects.toEqual(refused('backed_up', 'no longer bound to one security key'));
    });
  });

  it('refuses the virtual authenticator in production', async () => {
    await withKey({}, async () => {
      const { response, challenge } = await register();
      const info = await verifyRegistration({ response, expectedChallenge: challenge }, mds);
      await expect(checkRegistration(info, { ...mds, PORTAL_ENV: 'production' })).rejects.toEqual(
        refused('virtual_authenticator'),
      );
    });
  });
});

describe('origin, RP ID and challenge', () => {
  it('refuses answers made for another origin, RP ID or challenge', async () => {
    await withKey({}, async () => {
      const { response, challenge } = await register();
      const elsewhere = { ...mds, PORTAL_URL: 'https://portal.example.test' };
      await expect(verifyRegistration({ response, expectedChallenge: challenge }, elsewhere)).rejects.toEqual(
        refused(
          'origin_mismatch',
          "did not come from the portal's own address (https://portal.example.test)",
        ),
      );
      await expect(
        verifyRegistration(
          { response, expectedChallenge: challenge },
          { ...mds, WEBAUTHN_RP_ID: 'example.test' },
        ),
      ).rejects.toEqual(refused('rp_id_mismatch'));
      await expect(verifyRegistration({ response, expectedChallenge: 'AAAA' }, mds)).rejects.toEqual(
        refused('challenge_mismatch', 'does not match the request'),
      );

      const info = await verifyRegistration({ response, expectedChallenge: challenge }, mds);
      const assertion = await assert(info.credential.id);
      const input = {
        response: assertion.response,
        expectedChallenge: assertion.challenge,
        credential: info.credential,
      };
      await expect(verifyAuthentication(input, elsewhere)).rejects.toEqual(refused('origin_mismatch'));
      await expect(verifyAuthentication({ ...input, expectedChallenge: challenge }, mds)).rejects.toEqual(
        refused('challenge_mismatch'),
      );
      // A sign-in answer offered as an enrolment.
      await expect(
        verifyRegistration(
          { response: registrationShaped(assertion.response), expectedChallenge: assertion.challenge },
          mds,
        ),
      ).rejects.toEqual(refused('wrong_ceremony'));
    });
  });
});

describe('relaxed trust', () => {
  it('accepts attestation "none" and packed, but not a zero AAGUID when an allow-list is set', async () => {
    await withKey({}, async () => {
      const none = await register({ attestationType: 'none' });
      const info = await verifyRegistration(
        { response: none.response, expectedChallenge: none.challenge },
        relaxed,
      );
      expect(info).toMatchObject({ fmt: 'none', aaguid: '00000000-0000-0000-0000-000000000000' });
      await expect(
        checkRegistration(info, { ...relaxed, WEBAUTHN_AAGUID_ALLOWLIST: [VIRTUAL_AUTHENTICATOR_AAGUID] }),
      ).rejects.toEqual(refused('aaguid_missing'));

      const packed = await register();
      const packedInfo = await verifyRegistration(
        { response: packed.response, expectedChallenge: packed.challenge },
        relaxed,
      );
      expect(packedInfo.fmt).toBe('packed');
      await expect(
        checkRegistration(packedInfo, { ...relaxed, WEBAUTHN_AAGUID_ALLOWLIST: [YUBIKEY_5_AAGUID] }),
      ).rejects.toEqual(refused('aaguid_not_allowed'));
    });
  });

  it('still refuses user verification off and backup flags', async () => {
    await withKey(NO_UV_KEY, async () => {
      const { response, challenge } = await register({ ...NO_UV_OPTIONS, attestationType: 'none' });
      await expect(verifyRegistration({ response, expectedChallenge: challenge }, relaxed)).rejects.toEqual(
        refused('user_not_verified'),
      );
    });
    await withKey({ defaultBackupEligibility: true, defaultBackupState: true }, async () => {
      const { response, challenge } = await register({ attestationType: 'none' });
      await expect(verifyRegistration({ response, expectedChallenge: challenge }, relaxed)).rejects.toEqual(
        refused('backed_up'),
      );
    });
  });
});

describe('loadTrust', () => {
  it('reads and verifies the blob once, and leaves the global MDS roots as they were', async () => {
    const before = SettingsService.getRootCertificates({ identifier: 'mds' });
    const trust = await loadTrust(mds);
    expect(loadTrust({ ...mds })).toBe(loadTrust(mds));
    expect(trust).toMatchObject({ mode: 'mds', no: 1, nextUpdate: '2099-12-31' });
    expect(trust.mode === 'mds' && [...trust.statements.keys()]).toEqual([VIRTUAL_AUTHENTICATOR_AAGUID]);
    const compromised = await loadTrust({ ...mds, WEBAUTHN_MDS_FILE: COMPROMISED_BLOB });
    expect(compromised.mode === 'mds' && compromised.statements.size).toBe(0);
    expect(SettingsService.getRootCertificates({ identifier: 'mds' })).toEqual(before);
    expect(await loadTrust(relaxed)).toEqual({ mode: 'relaxed' });
  });

  it('fails with an error that names the file', async () => {
    await expect(loadTrust({ ...mds, WEBAUTHN_MDS_FILE: '/nonexistent/blob.jwt' })).rejects.toThrow(
      /^WEBAUTHN_MDS_FILE \(\/nonexistent\/blob\.jwt\) cannot be read: ENOENT/,
    );
    await expect(loadTrust({ ...mds, WEBAUTHN_MDS_FILE: ROOT })).rejects.toThrow(
      `WEBAUTHN_MDS_FILE (${ROOT}) does not hold a FIDO MDS3 blob (a JWT).`,
    );
    await expect(loadTrust({ ...mds, WEBAUTHN_MDS_ROOT_FILE: BLOB })).rejects.toThrow(
      `WEBAUTHN_MDS_ROOT_FILE (${BLOB}) holds no PEM certificate.`,
    );
    // Under the FIDO Alliance's real root the test blob does not verify (and nothing is fetched).
    await expect(loadTrust({ ...mds, WEBAUTHN_MDS_ROOT_FILE: undefined })).rejects.toThrow(
      `WEBAUTHN_MDS_FILE (${BLOB}) is not a FIDO MDS3 blob signed under the FIDO Alliance's root: BLOB certificate path could not be validated`,
    );
    await expect(loadTrust({ ...mds, WEBAUTHN_MDS_FILE: undefined })).rejects.toThrow(
      /WEBAUTHN_MDS_FILE is not set/,
    );
  });
});

/** The registration response fields SimpleWebAuthn reads, base64url. */
function b64(part: { attestationObject: Uint8Array_ }) {
  return { attestationObject: isoBase64URL.fromBuffer(part.attestationObject) };
}

/** An assertion dressed as a registration response: its clientDataJSON says webauthn.get. */
function registrationShaped(assertion: AuthenticationResponseJSON): RegistrationResponseJSON {
  return {
    id: assertion.id,
    rawId: assertion.rawId,
    type: 'public-key',
    clientExtensionResults: {},
    response: { clientDataJSON: assertion.response.clientDataJSON, attestationObject: 'AA' },
  };
}
