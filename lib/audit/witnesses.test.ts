import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig } from '@/lib/config';
import { LOG_ORIGIN, TestLog } from '@/test/merkle-log';
import { consistencyProof, rootAt } from './merkle';
import { checkpointText, noteVerifier, verifyNote } from './note';
import { cosign, cosignerVerifierKey, formatAddCheckpoint, parseCosignerKey } from './witness-protocol';
import { type RunningWitness, startWitness } from './witness-server';
import { configuredWitnesses, requestCosignatures, type Witness } from './witnesses';

const ORIGIN = LOG_ORIGIN;
const logKey = crypto.generateKeyPairSync('ed25519');

/** The portal's chain as a Merkle tree in memory, signing its checkpoints as the portal does. */
class Chain extends TestLog {
  constructor(history = 'a') {
    super(history, logKey.privateKey);
  }

  override grow(size: number, sharedUpTo = size) {
    return super.grow(size, sharedUpTo);
  }

  async signedNote(size?: number) {
    return (await this.note(size)).note;
  }

  proofFrom = vi.fn((size: number) => consistencyProof(size, this.edge.size, this.tiles));
}

let dir: string;
const closing: Array<() => Promise<void>> = [];

async function witness(name: string) {
  const key = crypto.generateKeyPairSync('ed25519');
  const running: RunningWitness = await startWitness({
    name,
    privateKey: key.privateKey,
    logs: new Map([[ORIGIN, [noteVerifier(ORIGIN, logKey.publicKey)]]]),
    stateDir: fs.mkdtempSync(path.join(dir, 'state-')),
    port: 0,
    logger: pino({ level: 'silent' }),
  });
  closing.push(() => running.close());
  const config: Witness = {
    name,
    url: running.url,
    vkey: running.witness.verifierKey,
    key: parseCosignerKey(running.witness.verifierKey),
  };
  return { config, key, url: running.url };
}

/** A server answering every request with `answer`, or never, to stand for a witness that misbehaves. */
async function fakeWitness(answer: ((body: string) => { status: number; body: string }) | 'hang') {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (answer === 'hang') return;
      const a = answer(body);
      res.writeHead(a.status, { 'Content-Type': 'text/plain' }).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closing.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'witnesses-'));
});
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('requestCosignatures, against the witness of npm run audit:witness', () => {
  it('collects a verified cosignature from each witness, first from 0, then from the size they cosigned', async () => {
    const [w1, w2] = [await witness('witness.example/w1'), await witness('witness.example/w2')];
    const chain = new Chain().grow(20);
    const first = await requestCosignatures(await chain.signedNote(), 0, [], {
      proofFrom: chain.proofFrom,
      witnesses: [w1.config, w2.config],
    });
    expect(first).toEqual([
      expect.objectContaining({ witness: 'witness.example/w1', outcome: 'cosigned', oldSize: 0 }),
      expect.objectContaining({ witness: 'witness.example/w2', outcome: 'cosigned', oldSize: 0 }),
    ]);

    chain.grow(33);
    const note = await chain.signedNote();
    const next = await requestCosignatures(note, 20, await consistencyProof(20, 33, chain.tiles), {
      proofFrom: chain.proofFrom,
      witnesses: [w1.config, w2.config],
    });
    expect(next.map((r) => r.outcome)).toEqual(['cosigned', 'cosigned']);
    expect(chain.proofFrom).not.toHaveBeenCalled();
    // The lines, appended to the note, verify as cosignatures under the witnesses' verifier keys; and the
    // note still verifies under the log's key with them (a note verifier ignores the lines it does not know).
    const cosignedNote = note + next.map((r) => (r.outcome === 'cosigned' ? r.line : '')).join('');
    expect(verifyNote(cosignedNote, [noteVerifier(ORIGIN, logKey.publicKey)])).toMatchObject({ ok: true });
    const now = Math.floor(Date.now() / 1000);
    for (const r of next) if (r.outcome === 'cosigned') expect(Math.abs(r.timestamp - now)).toBeLessThan(60);
  });

  it('retries once from the size a witness reports (409), with a proof from that size', async () => {
    const w = await witness('witness.example/w1');
    const chain = new Chain().grow(40);
    await requestCosignatures(await chain.signedNote(25), 0, [], {
      proofFrom: chain.proofFrom,
      witnesses: [w.config],
    });

    // The portal's memory of what the witness cosigned is lost: it sends old 0.
    const [result] = await requestCosignatures(await chain.signedNote(), 0, [], {
      proofFrom: chain.proofFrom,
      witnesses: [w.config],
    });
    expect(result).toMatchObject({ outcome: 'cosigned', oldSize: 25 });
    expect(chain.proofFrom).toHaveBeenCalledExactlyOnceWith(25);
  });

  it('reports a rolled-back chain as refused, with the larger size the witness cosigned, and asks no proof', async () => {
    const w = await witness('witness.example/w1');
    const chain = new Chain().grow(30);
    await requestCosignatures(await chain.signedNote(), 0, [], {
      proofFrom: chain.proofFrom,
      witnesses: [w.config],
    });

    // The database is put back to 22 entries, every checkpoint row with it.
    const restored = new Chain('second').grow(26, 22);
    const [result] = await requestCosignatures(await restored.signedNote(), 0, [], {
      proofFrom: restored.proofFrom,
      witnesses: [w.config],
    });
    expect(result).toMatchObject({
      outcome: 'refused',
      status: 409,
      witnessSize: 30,
      reason: expect.stringMatching(/larger tree \(30\).*rolled back or forked/),
    });
    expect(restored.proofFrom).not.toHaveBeenCalled();

    // Once the second history is larger, the retry from 30 carries its own proof, which the witness refuses.
    restored.grow(50, 22);
    const [later] = await requestCosignatures(await restored.signedNote(), 0, [], {
      proofFrom: restored.proofFrom,
      witnesses: [w.config],
    });
    expect(later).toMatchObject({ outcome: 'refused', status: 422 });
    expect(restored.proofFrom).toHaveBeenCalledExactlyOnceWith(30);
  });

  it('reports a witness that does not answer, or answers 5xx, as unreachable, and the others all the same', async () => {
    const w = await witness('witness.example/w1');
    const hanging = await fakeWitness('hang');
    const failing = await fakeWitness(() => ({ status: 503, body: 'overloaded\n' }));
    const closed = await fakeWitness(() => ({ status: 200, body: '' }));
    await closing.pop()!(); // nothing listens there any more
    const chain = new Chain().grow(5);
    const others = ['w2', 'w3', 'w4'].map((n) => `witness.example/${n}`);
    const results = await requestCosignatures(await chain.signedNote(), 0, [], {
      proofFrom: chain.proofFrom,
      timeoutMs: 300,
      witnesses: [
        w.config,
        { ...w.config, name: others[0]!, url: hanging },
        { ...w.config, name: others[1]!, url: failing },
        { ...w.config, name: others[2]!, url: closed },
      ],
    });
    expect(results).toEqual([
      expect.objectContaining({ outcome: 'cosigned' }),
      expect.objectContaining({ outcome: 'unreachable', reason: 'no answer within 300 ms' }),
      expect.objectContaining({ outcome: 'unreachable', status: 503, reason: 'answered 503: overloaded' }),
      expect.objectContaining({
        outcome: 'unreachable',
        reason: expect.stringMatching(/ECONNREFUSED|fetch failed/),
      }),
    ]);
  });

  it('takes only a valid cosignature by the configured key: another witness’s, a forged one or a future one is invalid', async () => {
    const [w1, w2] = [await witness('witness.example/w1'), await witness('witness.example/w2')];
    const chain = new Chain().grow(9);
    const note = await chain.signedNote();
    const text = note.slice(0, note.indexOf('\n\n') + 1);

    // w1's URL configured with w2's key: w1's cosignature is not w2's.
    const [swapped] = await requestCosignatures(note, 0, [], {
      proofFrom: chain.proofFrom,
      witnesses: [{ ...w2.config, url: w1.url }],
    });
    expect(swapped).toMatchObject({
      outcome: 'invalid',
      reason: expect.stringMatching(/^no cosignature by witness\.example\/w2\+/),
    });

    // A cosignature by the right key over another checkpoint.
    const other = checkpointText({ origin: ORIGIN, size: 8, rootHash: await rootAt(8, chain.tiles) });
    const wrongCheckpoint = await fakeWitness(() => ({
      status: 200,
      body: cosign(other, 'witness.example/w1', w1.key.privateKey, 1_800_000_000),
    }));
    const future = await fakeWitness(() => ({
      status: 200,
      body: cosign(text, 'witness.example/w1', w1.key.privateKey, Math.floor(Date.now() / 1000) + 3600),
    }));
    const notLines = await fakeWitness(() => ({ status: 200, body: 'ok\n' }));
    const results = await requestCosignatures(note, 0, [], {
      proofFrom: chain.proofFrom,
      witnesses: [wrongCheckpoint, future, notLines].map((url) => ({ ...w1.config, url })),
    });
    expect(results).toEqual([
      expect.objectContaining({ outcome: 'invalid', reason: expect.stringMatching(/does not verify/) }),
      expect.objectContaining({ outcome: 'invalid', reason: expect.stringMatching(/in the future/) }),
      expect.objectContaining({
        outcome: 'invalid',
        reason: expect.stringMatching(/not note signature lines/),
      }),
    ]);
  });

  it('sends the add-checkpoint body of the spec, and reports a 4xx with its first line', async () => {
    let seen = '';
    const url = await fakeWitness((body) => {
      seen = body;
      return { status: 403, body: 'unknown key\nmore\n' };
    });
    const chain = new Chain().grow(12);
    const note = await chain.signedNote();
    const proof = await consistencyProof(7, 12, chain.tiles);
    const w = await witness('witness.example/w1');
    const [result] = await requestCosignatures(note, 7, proof, {
      proofFrom: chain.proofFrom,
      witnesses: [{ ...w.config, url }],
    });
    expect(seen).toBe(formatAddCheckpoint({ oldSize: 7, proof, note }));
    expect(result).toMatchObject({ outcome: 'refused', status: 403, reason: 'unknown key' });
  });
});

describe('the witnesses’ configuration', () => {
  const key = crypto.generateKeyPairSync('ed25519').publicKey;
  const vkey1 = cosignerVerifierKey('witness.example/w1', key);
  const vkey2 = cosignerVerifierKey('witness.example/w2', crypto.generateKeyPairSync('ed25519').publicKey);

  it('pairs AUDIT_WITNESS_URLS and AUDIT_WITNESS_KEYS by position, and names each witness by its key', () => {
    const c = parseConfig({
      AUDIT_WITNESS_URLS: 'https://w1.example/, https://w2.example/witness',
      AUDIT_WITNESS_KEYS: `${vkey1},${vkey2}`,
    });
    expect(configuredWitnesses(c).map(({ name, url }) => ({ name, url }))).toEqual([
      { name: 'witness.example/w1', url: 'https://w1.example' },
      { name: 'witness.example/w2', url: 'https://w2.example/witness' },
    ]);
    expect(configuredWitnesses(parseConfig({}))).toEqual([]);
  });

  it('refuses a key whose ID does not match its name and key', () => {
    const wrongId = vkey1.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    const c = parseConfig({ AUDIT_WITNESS_URLS: 'https://w1.example', AUDIT_WITNESS_KEYS: wrongId });
    expect(() => configuredWitnesses(c)).toThrow(ConfigError);
  });
});
