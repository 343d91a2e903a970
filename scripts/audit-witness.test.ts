import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consistencyProof, rootAt } from '@/lib/audit/merkle';
import { checkpointText, noteVerifier, parseNote, signNote } from '@/lib/audit/note';
import {
  formatAddCheckpoint,
  parseCosignatureLines,
  parseCosignerKey,
  verifyCosignature,
} from '@/lib/audit/witness-protocol';
import { MAX_BODY_BYTES, parseLogsFile, type RunningWitness, startWitness } from '@/lib/audit/witness-server';
import { LOG_ORIGIN, TestLog } from '@/test/merkle-log';

const ORIGIN = LOG_ORIGIN;
const WITNESS = 'witness.example/w1';
const logKey = crypto.generateKeyPairSync('ed25519');
const witnessKey = crypto.generateKeyPairSync('ed25519');

/** A log signed with the portal's test key unless another is given. */
class Log extends TestLog {
  constructor(history: string, key = logKey.privateKey) {
    super(history, key);
  }
}

async function post(url: string, body: string) {
  const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

let dir: string;
const running: RunningWitness[] = [];
const logLines: string[] = [];

function tempDir(name: string) {
  return fs.mkdtempSync(path.join(dir, `${name}-`));
}

async function witness(stateDir = tempDir('state'), now?: () => number) {
  const logs = new Map([[ORIGIN, [noteVerifier(ORIGIN, logKey.publicKey)]]]);
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const w = await startWitness({
    name: WITNESS,
    privateKey: witnessKey.privateKey,
    logs,
    stateDir,
    port: 0,
    logger,
    now,
  });
  running.push(w);
  return { ...w, stateDir };
}

async function stop(w: RunningWitness) {
  running.splice(running.indexOf(w), 1);
  await w.close();
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-witness-'));
});
afterEach(async () => {
  for (const w of running.splice(0)) await w.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the witness (C2SP tlog-witness add-checkpoint)', () => {
  it('cosigns a first checkpoint (old 0), then a consistent extension; each cosignature verifies', async () => {
    const w = await witness(undefined, () => 1_800_000_000);
    const log = new Log('a').grow(37);
    const key = parseCosignerKey(w.witness.verifierKey);

    const first = await post(w.url, await log.body(0, 20));
    expect(first.status, first.text).toBe(200);
    const { text } = await log.note(20);
    const [cosignature] = parseCosignatureLines(text, first.text);
    expect(verifyCosignature(text, cosignature!, key)).toEqual({ ok: true, timestamp: 1_800_000_000 });

    const next = await post(w.url, await log.body(20, 37));
    expect(next.status, next.text).toBe(200);
    const later = await log.note(37);
    expect(
      verifyCosignature(later.text, parseCosignatureLines(later.text, next.text)[0]!, key),
    ).toMatchObject({
      ok: true,
    });
    // Not a cosignature of the earlier checkpoint: it signs the checkpoint it was sent.
    expect(verifyCosignature(text, parseCosignatureLines(text, next.text)[0]!, key)).toMatchObject({
      ok: false,
    });

    // The same checkpoint again is cosigned again (old = size, same root, empty proof).
    expect((await post(w.url, await log.body(37, 37))).status).toBe(200);
    // Its state file holds the latest checkpoint and the note the log sent.
    const [file] = fs.readdirSync(w.stateDir).filter((f) => f.startsWith('log-'));
    const state = JSON.parse(fs.readFileSync(path.join(w.stateDir, file!), 'utf8'));
    expect(state).toMatchObject({ origin: ORIGIN, size: 37, note: (await log.note(37)).note });
  });

  it('refuses a fork: another root at the size it cosigned (409, kept as evidence), and a larger tree whose proof does not lead from its root (422)', async () => {
    const w = await witness();
    const honest = new Log('honest').grow(40, 40);
    const fork = new Log('fork').grow(40, 10);
    expect((await post(w.url, await honest.body(0, 25))).status).toBe(200);

    const sameSize = await post(w.url, await fork.body(25, 25));
    expect(sameSize.status).toBe(409);
    expect(sameSize.contentType).not.toBe('text/x.tlog.size');
    expect(sameSize.text).toMatch(/fork/);
    const evidence = fs.readdirSync(path.join(w.stateDir, 'evidence'));
    expect(evidence).toHaveLength(1);
    expect(fs.readFileSync(path.join(w.stateDir, 'evidence', evidence[0]!), 'utf8')).toContain(
      (await fork.note(25)).note,
    );

    // The fork's own consistency proof, from the fork's tree of 25 leaves: not from the root cosigned.
    const larger = await post(w.url, await fork.body(25, 40));
    expect(larger.status, larger.text).toBe(422);
    // A proof that belongs to another size pair does not pass either.
    const { note } = await honest.note(40);
    const wrongProof = formatAddCheckpoint({
      oldSize: 25,
      proof: await consistencyProof(24, 40, honest.tiles),
      note,
    });
    expect((await post(w.url, wrongProof)).status).toBe(422);

    // Nothing of this moved the witness: the honest extension is still cosigned from 25.
    expect((await post(w.url, await honest.body(25, 40))).status).toBe(200);
  });

  it('refuses a rollback: a smaller checkpoint is answered 409 with the size it cosigned (text/x.tlog.size)', async () => {
    const w = await witness();
    const log = new Log('a').grow(30);
    expect((await post(w.url, await log.body(0, 30))).status).toBe(200);

    for (const old of [0, 12]) {
      const refused = await post(w.url, await log.body(old, 20));
      expect(refused).toEqual({ status: 409, contentType: 'text/x.tlog.size', text: '30\n' });
    }
    // Claiming the witness's own size as old, for a smaller tree, is a malformed request (old > size).
    const { note } = await log.note(20);
    expect((await post(w.url, formatAddCheckpoint({ oldSize: 30, proof: [], note }))).status).toBe(400);
    // And an old size that is not the witness's, for a larger tree: 409 too, so the client can retry.
    const behind = await post(w.url, await log.grow(35).body(20, 35));
    expect(behind).toEqual({ status: 409, contentType: 'text/x.tlog.size', text: '30\n' });
  });

  it('refuses a checkpoint of an unknown origin (404), signed by an unknown key, or with a forged signature (403)', async () => {
    const w = await witness();
    const log = new Log('a').grow(5);
    const { text } = await log.note(5);

    const otherOrigin = checkpointText({
      origin: 'other.example/log',
      size: 5,
      rootHash: await rootAt(5, log.tiles),
    });
    const unknownOrigin = formatAddCheckpoint({
      oldSize: 0,
      proof: [],
      note: signNote(otherOrigin, 'other.example/log', logKey.privateKey),
    });
    expect((await post(w.url, unknownOrigin)).status).toBe(404);

    const intruder = crypto.generateKeyPairSync('ed25519');
    const byIntruder = new Log('a', intruder.privateKey).grow(5);
    const unknownKey = await post(w.url, await byIntruder.body(0, 5));
    expect(unknownKey.status).toBe(403);
    expect(unknownKey.text).toMatch(/no signature by a known key/);

    // The log's key ID and name, with a signature that is not the log's.
    const genuine = parseNote(signNote(text, ORIGIN, logKey.privateKey)).signatures[0]!;
    const forgedNote = `${text}\n\u2014 ${ORIGIN} ${Buffer.concat([genuine.keyId, crypto.randomBytes(64)]).toString('base64')}\n`;
    expect((await post(w.url, formatAddCheckpoint({ oldSize: 0, proof: [], note: forgedNote }))).status).toBe(
      403,
    );

    // None of them was recorded: the genuine first checkpoint is still taken with old 0.
    expect((await post(w.url, await log.body(0, 5))).status).toBe(200);
  });

  it('keeps its latest checkpoint across a restart (the state directory)', async () => {
    const first = await witness();
    const log = new Log('a').grow(50);
    expect((await post(first.url, await log.body(0, 33))).status).toBe(200);
    await stop(first);

    const again = await witness(first.stateDir);
    expect(await post(again.url, await log.body(0, 50))).toMatchObject({ status: 409, text: '33\n' });
    expect((await post(again.url, await log.body(33, 50))).status).toBe(200);
  });

  it('catches a log restarted from an older tree (every checkpoint row deleted, the database rolled back)', async () => {
    const w = await witness();
    const original = new Log('original').grow(30, 45);
    expect((await post(w.url, await original.body(0, 30))).status).toBe(200);

    // The database is put back to 20 entries and the portal has lost every checkpoint: it knows no old
    // size, so it sends 0. Then it chains a second history on top of the 20.
    const rolledBack = new Log('second').grow(20, 20);
    expect(await post(w.url, await rolledBack.body(0, 20))).toMatchObject({ status: 409, text: '30\n' });
    rolledBack.grow(45, 20);
    expect(await post(w.url, await rolledBack.body(0, 26))).toMatchObject({ status: 409, text: '30\n' });
    // At the witness's size, another root: a fork.
    expect((await post(w.url, await rolledBack.body(30, 30))).status).toBe(409);
    // Past it, retrying from the size the witness reported, the second history's proof does not verify.
    expect((await post(w.url, await rolledBack.body(30, 45))).status).toBe(422);
    // The original history still extends.
    expect((await post(w.url, await original.grow(45, 45).body(30, 45))).status).toBe(200);
  });

  it('serialises the check and the write per log: of concurrent first checkpoints, one is cosigned, the others get 409 with its size', async () => {
    const w = await witness();
    const log = new Log('a').grow(12);
    const bodies = await Promise.all(Array.from({ length: 12 }, (_, i) => log.body(0, i + 1)));
    const answers = await Promise.all(bodies.map((b) => post(w.url, b)));
    const cosigned = answers.flatMap((a, i) => (a.status === 200 ? [i + 1] : []));
    expect(cosigned).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200))
      expect(a).toEqual({ status: 409, contentType: 'text/x.tlog.size', text: `${cosigned[0]}\n` });
  });

  it('answers only POST /add-checkpoint, bounds the body, refuses malformed requests (400)', async () => {
    const w = await witness();
    expect((await fetch(`${w.url}/add-checkpoint`)).status).toBe(405);
    expect((await fetch(`${w.url}/`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect((await post(w.url, 'old 0\n\nnot a note\n')).status).toBe(400);
    expect((await post(w.url, 'x'.repeat(MAX_BODY_BYTES + 1))).status).toBe(413);
    const log = new Log('a').grow(3);
    expect((await post(w.url, `old 0\n${'A'.repeat(44)}\n\n${(await log.note(3)).note}`)).status).toBe(400);
  });

  it('logs JSON lines with the origin, sizes and outcome, never its private key', async () => {
    logLines.length = 0;
    const w = await witness();
    const log = new Log('a').grow(4);
    await post(w.url, await log.body(0, 4));
    await post(w.url, await log.body(0, 2));
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'add-checkpoint', status: 200, origin: ORIGIN, size: 4, old: 0 }),
      expect.objectContaining({
        msg: 'add-checkpoint',
        status: 409,
        size: 2,
        reason: expect.stringMatching(/rollback/),
      }),
    ]);
    const secret = witnessKey.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
    for (const encoding of ['base64', 'hex', 'base64url'] as const)
      expect(logLines.join('')).not.toContain(secret.toString(encoding));
  });

  it('answers 500 for a state file it cannot read, and never takes it for a log it has not seen', async () => {
    const w = await witness();
    const log = new Log('a').grow(8);
    expect((await post(w.url, await log.body(0, 8))).status).toBe(200);
    const [file] = fs.readdirSync(w.stateDir).filter((f) => f.startsWith('log-'));
    fs.writeFileSync(path.join(w.stateDir, file!), '{"origin": "staff-portal@int.arbitex.ai", "size": ');
    expect((await post(w.url, await new Log('b').grow(3).body(0, 3))).status).toBe(500);
    expect(fs.readFileSync(path.join(w.stateDir, file!), 'utf8')).toMatch(/"size": $/);
  });

  it('refuses a second witness on the same state directory', async () => {
    const w = await witness();
    await expect(witness(w.stateDir)).rejects.toThrow(/state directory/);
  });
});

describe('the logs file', () => {
  it('takes verifier keys and PEM public keys per origin, and names the origin of a bad key', () => {
    const vkey = `${ORIGIN}+${crypto
      .createHash('sha256')
      .update(`${ORIGIN}\n\x01`)
      .update(Buffer.from(logKey.publicKey.export({ format: 'jwk' }).x!, 'base64url'))
      .digest()
      .subarray(0, 4)
      .toString(
        'hex',
      )}+${Buffer.concat([Buffer.of(1), Buffer.from(logKey.publicKey.export({ format: 'jwk' }).x!, 'base64url')]).toString('base64')}`;
    const pem = logKey.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const logs = parseLogsFile(JSON.stringify({ [ORIGIN]: [vkey, pem], 'b.example/log': vkey }));
    expect(logs.get(ORIGIN)!.map((v) => v.name)).toEqual([ORIGIN, ORIGIN]);
    expect(logs.get(ORIGIN)![0]!.keyId).toEqual(logs.get(ORIGIN)![1]!.keyId);
    expect(() => parseLogsFile(JSON.stringify({ [ORIGIN]: 'nonsense' }))).toThrow(new RegExp(ORIGIN));
    expect(() => parseLogsFile(JSON.stringify({ [ORIGIN]: [] }))).toThrow();
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() =>
      parseLogsFile(JSON.stringify({ [ORIGIN]: rsa.export({ format: 'pem', type: 'spki' }).toString() })),
    ).toThrow(/Ed25519/);
  });
});

describe('npm run audit:witness, bundled, outside the repository', () => {
  // None of the portal's settings or secrets; NODE_ENV=production without PORTAL_ENV, which the portal's
  // configuration would refuse.
  function run(args: string[], cwd: string, env: Record<string, string> = {}) {
    return spawn(process.execPath, [path.join(cwd, 'audit-witness.mjs'), ...args], {
      cwd,
      env: { NODE_ENV: 'production', ...env },
    });
  }

  function collect(child: ChildProcess) {
    const out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (c: Buffer) => (out.stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out.stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    return { out, exited };
  }

  /**
   * Starts `serve`, configured by flags or by the environment, and waits for its "witness listening" line:
   * the URL it listens on.
   */
  async function serve(cwd: string, by: 'flags' | 'env') {
    const settings = {
      name: WITNESS,
      'key-file': 'witness.key',
      logs: 'logs.json',
      'state-dir': 'state',
      listen: '127.0.0.1:0',
    };
    const child =
      by === 'flags'
        ? run(['serve', ...Object.entries(settings).flatMap(([k, v]) => [`--${k}`, v])], cwd)
        : run(['serve'], cwd, {
            WITNESS_NAME: settings.name,
            WITNESS_KEY_FILE: settings['key-file'],
            WITNESS_LOGS_FILE: settings.logs,
            WITNESS_STATE_DIR: settings['state-dir'],
            WITNESS_LISTEN: settings.listen,
          });
    const { out, exited } = collect(child);
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const line = out.stdout.split('\n').find((l) => l.includes('witness listening'));
        if (line) {
          clearInterval(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }, 50);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`serve exited ${code}: ${out.stderr}`));
      });
    });
    return { child, url, out, exited };
  }

  it('keygen prints the verifier key; serve cosigns with it, writes JSON lines, and keeps its state across a process restart (configured by flags, then by the environment)', async () => {
    // The bundle of `npm run build:tools` (vitest's global setup builds it), copied away from node_modules.
    const cwd = tempDir('outside');
    fs.copyFileSync('.next/tools/audit-witness.mjs', path.join(cwd, 'audit-witness.mjs'));
    fs.writeFileSync(
      path.join(cwd, 'logs.json'),
      JSON.stringify({ [ORIGIN]: logKey.publicKey.export({ format: 'pem', type: 'spki' }).toString() }),
    );
    const keygen = collect(run(['keygen', '--name', WITNESS, '--key-file', 'witness.key'], cwd));
    expect(await keygen.exited, keygen.out.stderr).toBe(0);
    const vkey = keygen.out.stdout.trim();
    expect(fs.statSync(path.join(cwd, 'witness.key')).mode & 0o777).toBe(0o600);
    // It never replaces a key.
    expect(await collect(run(['keygen', '--name', WITNESS, '--key-file', 'witness.key'], cwd)).exited).toBe(
      2,
    );

    const log = new Log('a').grow(10);
    const first = await serve(cwd, 'flags');
    const answer = await post(first.url, await log.body(0, 6));
    expect(answer.status).toBe(200);
    const { text } = await log.note(6);
    expect(
      verifyCosignature(text, parseCosignatureLines(text, answer.text)[0]!, parseCosignerKey(vkey)),
    ).toMatchObject({
      ok: true,
    });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const lines = first.out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'add-checkpoint', status: 200, size: 6 }));
    expect(first.out.stdout).not.toContain(
      fs.readFileSync(path.join(cwd, 'witness.key'), 'utf8').split('\n')[1],
    );

    const second = await serve(cwd, 'env');
    try {
      expect(await post(second.url, await log.body(0, 10))).toMatchObject({ status: 409, text: '6\n' });
      expect((await post(second.url, await log.body(6, 10))).status).toBe(200);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
