/**
 * `npx tsx scripts/make-mds-fixture.ts`: regenerates e2e/fixtures/mds/, a test FIDO MDS3 blob whose one
 * entry is Chromium's virtual authenticator, so that the e2e portal runs with real attestation checks:
 * WEBAUTHN_ATTESTATION_TRUST=mds, WEBAUTHN_MDS_FILE=e2e/fixtures/mds/blob.jwt,
 * WEBAUTHN_MDS_ROOT_FILE=e2e/fixtures/mds/root.pem. Needs openssl and Chromium.
 *
 * Writes blob.jwt (the entry is FIDO_CERTIFIED_L1), compromised.jwt (the same entry with an
 * ATTESTATION_KEY_COMPROMISE report) and root.pem (the test root that signed both). The private keys live
 * in a temporary directory and are deleted.
 *
 * Chromium makes a new "Batch Certificate" for every credential (its notAfter is "now + 20 years" and its
 * ECDSA signature is randomised), always with the same subject and key pair. This script captures one
 * instance; lib/auth/webauthn-policy.ts trusts a self-signed attestation certificate whose subject and key
 * equal a root's, not only a byte-identical one.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  generateRegistrationOptions,
  type MDSJWTPayload,
  type MetadataStatement,
  SettingsService,
} from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL, verifyMDSBlob } from '@simplewebauthn/server/helpers';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumExecutable } from '../e2e/browser';
import { VIRTUAL_AUTHENTICATOR_AAGUID } from '../lib/config';

const OUT = path.resolve(import.meta.dirname, '../e2e/fixtures/mds');
const LEGAL_HEADER =
  'Test data for the Arbitex staff portal e2e suite. Not issued by the FIDO Alliance; never trust it in production.';
const CERTIFIED_SINCE = '2017-07-14';
const COMPROMISED_SINCE = '2026-01-01';
// `openssl ca` rather than `req -x509`/`x509 -req` because OpenSSL 3.0 can only backdate notBefore there.
// No CRL distribution points or AIA: SimpleWebAuthn would try to download a CRL for each such certificate.
const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
countryName = optional
organizationName = optional
commonName = supplied
[root_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** One packed attestation from Chromium's virtual authenticator; returns x5c[0] (DER). */
async function captureBatchCertificate(): Promise<Uint8Array> {
  const executablePath = chromiumExecutable();
  if (!executablePath) throw new Error('No Chromium found (see e2e/browser.ts).');
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>mds fixture</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.goto(`http://localhost:${port}/`);
    const options = await generateRegistrationOptions({
      rpName: 'mds fixture',
      rpID: 'localhost',
      userName: 'fixture',
      attestationType: 'direct',
      supportedAlgorithmIDs: [-7],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    const attestationObject = await page.evaluate(async (json) => {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(json));
      const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
      return (credential.toJSON() as { response: { attestationObject: string } }).response.attestationObject;
    }, JSON.stringify(options));
    const decoded = decodeAttestationObject(isoBase64URL.toBuffer(attestationObject));
    const cert = decoded.get('attStmt').get('x5c')?.[0];
    if (decoded.get('fmt') !== 'packed' || !cert)
      throw new Error('Chromium did not return packed attestation');
    return cert;
  } finally {
    await browser.close();
    server.close();
  }
}

function openssl(cwd: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeSigningChain(dir: string) {
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CNF);
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '01\n');
  const subject = { root: 'Test FIDO MDS Root', leaf: 'Test FIDO MDS Signer' };
  for (const [name, cn] of Object.entries(subject)) {
    openssl(dir, [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      `${name}.key`,
    ]);
    // prettier-ignore
    openssl(dir, [
      'req', '-new', '-config', 'openssl.cnf', '-key', `${name}.key`, '-out', `${name}.csr`,
      '-subj', `/C=US/O=Arbitex staff portal tests/CN=${cn}`,
    ]);
  }
  const validity = ['-startdate', '20250101000000Z', '-enddate', '21250101000000Z'];
  // prettier-ignore
  openssl(dir, [
    'ca', '-batch', '-notext', '-preserveDN', '-config', 'openssl.cnf', '-selfsign', '-keyfile', 'root.key',
    '-in', 'root.csr', '-extensions', 'root_ext', ...validity, '-out', 'root.pem',
  ]);
  // prettier-ignore
  openssl(dir, [
    'ca', '-batch', '-notext', '-preserveDN', '-config', 'openssl.cnf', '-cert', 'root.pem', '-keyfile', 'root.key',
    '-in', 'leaf.csr', '-extensions', 'leaf_ext', ...validity, '-out', 'leaf.pem',
  ]);
  for (const cert of ['root.pem', 'leaf.pem']) {
    const text = openssl(dir, ['x509', '-in', cert, '-noout', '-text']);
    if (/CRL Distribution|Authority Information Access/.test(text))
      throw new Error(`${cert} must not name a CRL or OCSP location`);
  }
  return {
    rootPem: fs.readFileSync(path.join(dir, 'root.pem'), 'utf8'),
    leaf: new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'leaf.pem'))),
    leafKey: crypto.createPrivateKey(fs.readFileSync(path.join(dir, 'leaf.key'))),
  };
}

function statement(batchCertificate: Uint8Array): MetadataStatement {
  return {
    legalHeader: LEGAL_HEADER,
    aaguid: VIRTUAL_AUTHENTICATOR_AAGUID,
    description: 'Chromium virtual FIDO2 authenticator (CDP WebAuthn domain, ctap2 over usb)',
    authenticatorVersion: 1,
    protocolFamily: 'fido2',
    schema: 3,
    upv: [{ major: 1, minor: 0 }],
    authenticationAlgorithms: ['secp256r1_ecdsa_sha256_raw', 'ed25519_eddsa_sha512_raw'],
    publicKeyAlgAndEncodings: ['cose'],
    attestationTypes: ['basic_full'],
    userVerificationDetails: [
      [{ userVerificationMethod: 'presence_internal' }],
      [{ userVerificationMethod: 'passcode_internal', caDesc: { base: 10, minLength: 4, maxRetries: 8 } }],
    ],
    keyProtection: ['software'],
    matcherProtection: ['software'],
    cryptoStrength: 128,
    attachmentHint: ['external', 'wired'],
    tcDisplay: [],
    attestationRootCertificates: [Buffer.from(batchCertificate).toString('base64')],
    authenticatorGetInfo: {
      versions: ['U2F_V2', 'FIDO_2_0'],
      aaguid: VIRTUAL_AUTHENTICATOR_AAGUID.replaceAll('-', ''),
      options: { plat: false, rk: true, up: true, uv: true },
      pinProtocols: [1],
      algorithms: [
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -8 },
      ],
    },
  };
}

function payload(batchCertificate: Uint8Array, compromised: boolean): MDSJWTPayload {
  const certified = {
    status: 'FIDO_CERTIFIED_L1' as const,
    effectiveDate: CERTIFIED_SINCE,
    certificationDescriptor: 'Chromium virtual FIDO2 authenticator',
    certificateNumber: 'TEST-FIDO20020170714001',
    certificationPolicyVersion: '1.1.0',
    certificationRequirementsVersion: '1.3',
  };
  const compromise = { status: 'ATTESTATION_KEY_COMPROMISE' as const, effectiveDate: COMPROMISED_SINCE };
  return {
    legalHeader: LEGAL_HEADER,
    no: compromised ? 2 : 1,
    nextUpdate: '2099-12-31',
    entries: [
      {
        aaguid: VIRTUAL_AUTHENTICATOR_AAGUID,
        metadataStatement: statement(batchCertificate),
        statusReports: compromised ? [certified, compromise] : [certified],
        timeOfLastStatusChange: compromised ? COMPROMISED_SINCE : CERTIFIED_SINCE,
      },
    ],
  };
}

function signJwt(body: MDSJWTPayload, leaf: crypto.X509Certificate, key: crypto.KeyObject): string {
  const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  // x5c holds the signer only: SimpleWebAuthn appends the configured root itself and refuses duplicates.
  const header = { alg: 'ES256', typ: 'JWT', x5c: [leaf.raw.toString('base64')] };
  const input = `${b64url(header)}.${b64url(body)}`;
  const signature = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

async function main() {
  const batchCertificate = await captureBatchCertificate();
  const batch = new crypto.X509Certificate(batchCertificate);
  console.log(
    `Chromium batch certificate: ${batch.subject.replaceAll('\n', ', ')}, valid to ${batch.validTo}`,
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mds-fixture-'));
  try {
    const { rootPem, leaf, leafKey } = makeSigningChain(dir);
    const blobs = {
      'blob.jwt': signJwt(payload(batchCertificate, false), leaf, leafKey),
      'compromised.jwt': signJwt(payload(batchCertificate, true), leaf, leafKey),
    };
    SettingsService.setRootCertificates({ identifier: 'mds', certificates: [rootPem] });
    for (const blob of Object.values(blobs)) await verifyMDSBlob(blob);

    fs.mkdirSync(OUT, { recursive: true });
    fs.writeFileSync(path.join(OUT, 'root.pem'), rootPem);
    for (const [name, blob] of Object.entries(blobs)) fs.writeFileSync(path.join(OUT, name), `${blob}\n`);
    console.log(
      `Wrote ${['root.pem', ...Object.keys(blobs)].join(', ')} to ${path.relative(process.cwd(), OUT)}/`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
