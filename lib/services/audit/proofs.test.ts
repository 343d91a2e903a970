import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { type Database, rows } from '@/db/client';
import { appendEntries, hmacKeyRing, type NewEntry } from '@/lib/audit';
import { insertCheckpoint } from '@/lib/audit/checkpoint';
import { checkpointKeyRing, publicKeyPem } from '@/lib/audit/checkpoint-keys';
import { verifyConsistency, verifyInclusion } from '@/lib/audit/merkle';
import { noteVerifier, openCheckpoint, parseNote } from '@/lib/audit/note';
import { checkInclusionProof, verifiersFor } from '@/lib/audit/proof-format';
import { verifyExportFile } from '@/lib/audit/verify-file';
import { cosign, cosignerVerifierKey } from '@/lib/audit/witness-protocol';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError, ValidationError } from '@/lib/errors';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { exportAudit } from './export';
import { consistencyProofFor, inclusionProofDownload, inclusionProofFor } from './proofs';

// The proof endpoints' services, the "Inclusion proof" download, and the checks a third party runs on
// them with the checkpoint public key alone: `npm run audit:verify -- --proof`, the hand-check script, and
// the proof line at the end of an export.
let database: Database;
let support: StaffCtx;
let auditor: StaffCtx;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-proof-'));
const chainId = 'staff-portal@localhost';
const activeKey = () => checkpointKeyRing().keys.get(checkpointKeyRing().activeId)!.publicKey;
const b = (s: string) => Buffer.from(s, 'base64');

beforeAll(async () => {
  database = await testDatabase();
  support = await staffWithSession(database.db, 'support');
  auditor = await staffWithSession(database.db, 'auditor');
  const seed = (n: number) =>
    Array.from({ length: n }, (): NewEntry => ({ action: 'system.seed', diff: { n } }));
  await database.db.transaction((tx) => appendEntries(tx, seed(300)));
  await database.db.transaction((tx) => insertCheckpoint(tx)); // a note of 300 (and a few audit entries before)
  await database.db.transaction((tx) => appendEntries(tx, seed(40)));
  await database.db.transaction((tx) => insertCheckpoint(tx));
});
afterAll(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The fields of a downloaded proof the tampering tests change. */
interface Doc {
  entry: { diff: unknown; action: string };
  proof: string[];
  checkpoint: string;
  tree_size: number;
  seq: number;
  leaf_index: number;
}

async function fails(run: Promise<unknown>) {
  return run.then(
    () => null,
    (e: unknown) => e,
  );
}

describe('GET /api/audit/proof/inclusion', () => {
  it('proves an entry in a signed tree, for any role, and the proof checks with the public key alone', async () => {
    const base = await inclusionProofFor(support, { seq: '1', size: '5' });
    const size = (await inclusionProofFor(support, { seq: '17' })).tree_size; // the newest note's tree
    expect(size).toBeGreaterThanOrEqual(340);
    const proof = await inclusionProofFor(support, { seq: '17', size: String(size) });
    expect(proof).toMatchObject({ seq: 17, leaf_index: 16, tree_size: size, chain_id: chainId });
    expect(proof.checkpoint).toMatch(new RegExp(`^${chainId}\\n${size}\\n`));
    const opened = openCheckpoint(proof.checkpoint!, [noteVerifier(chainId, activeKey())]);
    expect(opened.ok && opened.checkpoint.rootHash.toString('base64')).toBe(proof.root_hash);
    expect(verifyInclusion(16, size, b(proof.leaf_hash), proof.proof.map(b), b(proof.root_hash))).toBe(true);
    expect(base.checkpoint).toBeNull(); // no checkpoint was signed at size 5: the proof still holds
    expect(verifyInclusion(0, 5, b(base.leaf_hash), base.proof.map(b), b(base.root_hash))).toBe(true);
  });

  it('answers 400 naming the field for a bad or missing value, and 404 beyond the tree', async () => {
    for (const [query, field] of [
      [{}, 'seq'],
      [{ seq: 'x' }, 'seq'],
      [{ seq: '0' }, 'seq'],
      [{ seq: '3', size: '-1' }, 'size'],
      [{ seq: '9', size: '8' }, 'seq'],
    ] as const) {
      const err = await fails(inclusionProofFor(support, query));
      expect(err, JSON.stringify(query)).toBeInstanceOf(ValidationError);
      expect(Object.keys((err as ValidationError).fields)).toEqual([field]);
    }
    const beyond = await fails(inclusionProofFor(support, { seq: '1', size: '100000' }));
    expect(beyond).toBeInstanceOf(NotFoundError);
    expect((beyond as Error).message).toMatch(/beyond the Merkle tree, which holds \d+ entries/);
  });
});

describe('GET /api/audit/proof/consistency', () => {
  it('proves that an older signed tree is a prefix of a newer one', async () => {
    const newest = (await inclusionProofFor(support, { seq: '1' })).tree_size;
    const proof = await consistencyProofFor(auditor, { from: '300', to: String(newest) });
    expect(proof.proof.length).toBeGreaterThan(0);
    expect(verifyConsistency(300, newest, proof.proof.map(b), b(proof.from_root), b(proof.to_root))).toBe(
      true,
    );
    expect(proof.to_checkpoint).not.toBeNull();
    const bad = await fails(consistencyProofFor(auditor, { from: '20', to: '10' }));
    expect(Object.keys((bad as ValidationError).fields)).toEqual(['from']);
    expect(await fails(consistencyProofFor(auditor, { from: '1', to: '99999' }))).toBeInstanceOf(
      NotFoundError,
    );
    expect(
      Object.keys(((await fails(consistencyProofFor(auditor, { to: '3' }))) as ValidationError).fields),
    ).toEqual(['from']);
  });
});

describe('the “Inclusion proof” download, checked offline', () => {
  let file: string;
  let pem: string;
  beforeAll(async () => {
    const doc = await inclusionProofDownload(support, '42');
    file = path.join(dir, 'proof-42.json');
    fs.writeFileSync(file, JSON.stringify(doc, null, 2));
    pem = path.join(dir, 'cp.pem');
    fs.writeFileSync(pem, publicKeyPem(checkpointKeyRing().keys.get(checkpointKeyRing().activeId)!));
  });

  // No database: the command line must not need one (nor an HMAC key) to check a proof.
  const cli = (...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', DATA_DIR: path.join(dir, 'none') };
    delete env.DATABASE_URL;
    delete env.SECRET_AUDIT_HMAC_KEYS;
    return spawnSync('node_modules/.bin/tsx', ['scripts/audit-verify.ts', ...args], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
  };
  const byHand = (proofFile: string, keyFile: string) =>
    spawnSync('node', ['scripts/check-proof-by-hand.mjs', proofFile, keyFile], { encoding: 'utf8' });

  /** A copy of the download with one change. */
  function tampered(name: string, change: (doc: Doc) => void) {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Doc;
    change(doc);
    const out = path.join(dir, `${name}.json`);
    fs.writeFileSync(out, JSON.stringify(doc));
    return out;
  }

  it('holds the entry, its leaf hash, the proof, the signed note and the keys', () => {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc).toMatchObject({ type: 'arbitex.audit.inclusion_proof', seq: 42, entry: { seq: 42 } });
    expect(Object.keys(doc.public_keys)).toEqual(['test-cp1', 'test-cp2']);
    expect(doc.verifier_keys['test-cp1']).toMatch(new RegExp(`^${chainId}\\+[0-9a-f]{8}\\+`));
    const verdict = checkInclusionProof(
      { ...doc, leaf_hash: b(doc.leaf_hash), root_hash: b(doc.root_hash), proof: doc.proof.map(b) },
      verifiersFor(chainId, { pems: [activeKey()] }),
    );
    expect(verdict).toMatchObject({ ok: true });
  });

  it('npm run audit:verify -- --proof: valid with the PEM, with the verifier key, and with the checkpoints download', () => {
    const ok = cli('--proof', file, '--checkpoint-pubkey', pem);
    expect(ok.stdout, ok.stderr).toMatch(
      /^VALID: .*entry 42 is in the tree of \d+ entries that staff-portal@localhost signed/,
    );
    expect(ok.status).toBe(0);
    const vkey = path.join(dir, 'cp.vkey');
    fs.writeFileSync(vkey, `${JSON.parse(fs.readFileSync(file, 'utf8')).verifier_keys['test-cp1']}\n`);
    expect(cli('--proof', file, '--checkpoint-pubkey', vkey).status).toBe(0);
    const download = path.join(dir, 'checkpoints.json');
    fs.writeFileSync(
      download,
      JSON.stringify({
        type: 'arbitex.audit.checkpoints',
        public_keys: {},
        verifier_keys: { 'test-cp1': vkeyOf() },
      }),
    );
    expect(cli('--proof', file, '--checkpoint-pubkey', download).status).toBe(0);
  });
  const vkeyOf = () => JSON.parse(fs.readFileSync(file, 'utf8')).verifier_keys['test-cp1'] as string;

  it('refuses a changed entry, proof, checkpoint or size, and another key (exit 1)', () => {
    const cases: Array<[string, (d: Doc) => void, RegExp]> = [
      ['entry', (d) => (d.entry.diff = { n: 301 }), /leaf hash is not the hash of entry 42/],
      ['proof', (d) => void d.proof.splice(2, 2, d.proof[3]!, d.proof[2]!), /does not lead from entry 42/],
      [
        'checkpoint',
        (d) =>
          (d.checkpoint = d.checkpoint.replace(
            /\n(\d+)\n/,
            (_: string, n: string) => `\n${Number(n) + 1}\n`,
          )),
        /does not verify/,
      ],
      ['size', (d) => (d.tree_size -= 1), /tree size/],
      ['seq', (d) => ((d.seq = 43), (d.leaf_index = 42)), /the entry is seq 42, not 43/],
    ];
    for (const [name, change, why] of cases) {
      const run = cli('--proof', tampered(name, change), '--checkpoint-pubkey', pem);
      expect(run.stdout, name).toMatch(why);
      expect(run.stdout).toMatch(/^INVALID/);
      expect(run.status, name).toBe(1);
    }
    const other = path.join(dir, 'other.pem');
    fs.writeFileSync(
      other,
      crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const wrongKey = cli('--proof', file, '--checkpoint-pubkey', other);
    expect(wrongKey.stdout).toMatch(/no signature by a known key/);
    expect(wrongKey.status).toBe(1);
  });

  it('exits 2 without a key, with an unreadable file, or mixed with other modes', () => {
    expect(cli('--proof', file).status).toBe(2);
    expect(cli('--proof', path.join(dir, 'missing.json'), '--checkpoint-pubkey', pem).status).toBe(2);
    expect(cli('--proof', file, '--checkpoint-pubkey', pem, '--keys', pem).status).toBe(2);
    expect(cli('--proof', pem, '--checkpoint-pubkey', pem).stderr).toMatch(/is not JSON/);
  });

  it('carries the witnesses’ cosignatures of its checkpoint, which --witness-key requires', async () => {
    const [newest] = await rows<{ id: string; note: string }>(
      database.db,
      sql`select id::text as id, note from audit_checkpoints order by tree_size desc, signed_at desc limit 1`,
    );
    const witness = crypto.generateKeyPairSync('ed25519').privateKey;
    const vkey = cosignerVerifierKey('witness.test/w1', witness);
    // Stored as witnessing.ts stores it: the line without its newline.
    const line = cosign(parseNote(newest!.note).text, 'witness.test/w1', witness, 1_800_000_000).trimEnd();
    await database.db.execute(
      sql`insert into audit_checkpoint_cosignatures (checkpoint_id, witness_name, witness_key, witness_url,
            outcome, old_size, cosigned_at, cosignature)
          values (${newest!.id}::uuid, 'witness.test/w1', ${vkey}, 'http://witness.test', 'cosigned', 0,
                  now(), ${line})`,
    );
    const doc = await inclusionProofDownload(support, '42');
    expect(doc.checkpoint).toBe(`${newest!.note}${line}\n`);
    const cosigned = path.join(dir, 'proof-42-cosigned.json');
    fs.writeFileSync(cosigned, JSON.stringify(doc));

    const ok = cli('--proof', cosigned, '--checkpoint-pubkey', pem, '--witness-key', vkey);
    expect(ok.stdout, ok.stderr).toMatch(
      /^VALID: .*entry 42 is in the tree of \d+ entries .*; cosigned by witness\.test\/w1 \(2027-01-15T08:00:00\.000Z\)/,
    );
    expect(ok.status).toBe(0);
    // Another witness's key: not cosigned by it. Without the line: not cosigned. A changed line: refused.
    const other = cosignerVerifierKey('witness.test/w2', crypto.generateKeyPairSync('ed25519').privateKey);
    const notBy = cli(
      '--proof',
      cosigned,
      '--checkpoint-pubkey',
      pem,
      '--witness-key',
      vkey,
      '--witness-key',
      other,
    );
    expect(notBy.stdout).toMatch(/^INVALID: .*no cosignature by the witness witness\.test\/w2/);
    expect(notBy.status).toBe(1);
    expect(cli('--proof', file, '--checkpoint-pubkey', pem, '--witness-key', vkey).status).toBe(1);
    const forged = tampered('cosigned-forged', (d) => {
      const [prefix, name, b64] = line.split(' ');
      const bytes = Buffer.from(b64!, 'base64');
      bytes[bytes.length - 1]! ^= 1; // one bit of the signature
      d.checkpoint = `${newest!.note}${prefix} ${name} ${bytes.toString('base64')}\n`;
    });
    const bad = cli('--proof', forged, '--checkpoint-pubkey', pem, '--witness-key', vkey);
    expect(bad.stdout).toMatch(/^INVALID: .*the cosignature of witness\.test\/w1 does not verify/);
    expect(bad.status).toBe(1);
    // The extra line changes nothing for a checker that only trusts the checkpoint key.
    expect(byHand(cosigned, pem).stdout).toMatch(/^valid: entry 42/);
    expect(cli('--file', cosigned, '--keys', pem, '--witness-key', vkey).status).toBe(2);
  });

  it('scripts/check-proof-by-hand.mjs, node:crypto alone, agrees', () => {
    const ok = byHand(file, pem);
    expect(ok.stdout, ok.stderr).toMatch(/^valid: entry 42 is in the chain "staff-portal@localhost"/);
    expect(ok.status).toBe(0);
    for (const [name, change] of [
      ['hand-entry', (d: Doc) => (d.entry.action = 'org.updated')],
      ['hand-proof', (d: Doc) => d.proof.reverse()],
      ['hand-note', (d: Doc) => (d.checkpoint = d.checkpoint.replace('\n\n', '\nextra\n\n'))],
    ] as const) {
      const run = byHand(tampered(name, change), pem);
      expect(run.stdout, name).toMatch(/^INVALID/);
      expect(run.status).toBe(1);
    }
  });
});

describe('the export’s proof of its last entry, checked offline', () => {
  it('holds, and a changed proof line or a wrong key is found; an export without one stays valid', async () => {
    const { stream } = await exportAudit(auditor, {});
    const text = await new Response(stream).text();
    const file = path.join(dir, 'export.ndjson');
    fs.writeFileSync(file, text);
    const keys = { keys: hmacKeyRing(), publicKeys: new Map([['test-cp1', activeKey()]]) };
    const good = await verifyExportFile(file, keys);
    expect(good).toMatchObject({ ok: true, proof: 'checked' });

    const lines = text.trimEnd().split('\n');
    const proof = JSON.parse(lines.at(-1)!);
    expect(proof.type).toBe('arbitex.audit.proof');
    const write = (name: string, last: string | null) => {
      const out = path.join(dir, name);
      fs.writeFileSync(out, `${[...lines.slice(0, -1), ...(last === null ? [] : [last])].join('\n')}\n`);
      return out;
    };
    const swapped = [...proof.proof];
    [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
    expect(
      await verifyExportFile(write('bad-proof.ndjson', JSON.stringify({ ...proof, proof: swapped })), keys),
    ).toMatchObject({
      ok: false,
      kind: 'bad_proof',
      firstBadSeq: proof.seq,
    });
    expect(
      await verifyExportFile(
        write('short.ndjson', JSON.stringify({ ...proof, seq: proof.seq - 1, leaf_index: proof.seq - 2 })),
        keys,
      ),
    ).toMatchObject({
      ok: false,
      kind: 'bad_proof',
      detail: expect.stringMatching(/the export ends with entry/),
    });
    const otherKey = {
      ...keys,
      publicKeys: new Map([
        ['test-cp1', activeKey()],
        ['x', crypto.generateKeyPairSync('ed25519').publicKey],
      ]),
    };
    expect(await verifyExportFile(file, otherKey)).toMatchObject({ ok: true });
    // An export from before the tree: no proof line, and nothing else changes.
    expect(await verifyExportFile(write('old.ndjson', null), keys)).toMatchObject({
      ok: true,
      proof: 'absent',
    });
  });
});
