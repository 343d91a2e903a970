import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { EMPTY_ROOT, verifyConsistency } from './merkle';
import { decodeBase64, type NoteVerifier, noteVerifier, parseVerifierKey, verifyNote } from './note';
import {
  cosign,
  cosignerVerifierKey,
  formatSize,
  parseAddCheckpoint,
  SIZE_CONTENT_TYPE,
  WitnessProtocolError,
} from './witness-protocol';

/**
 * The witness (`npm run audit:witness`, docs/AUDIT.md "Witnesses"): a C2SP tlog-witness that keeps, per log
 * origin, the latest checkpoint it cosigned in a file of its state directory, and cosigns a new checkpoint
 * only when it is signed by the log's key and consistent with that one. It imports only pure modules
 * (merkle, note, witness-protocol): no database, no portal configuration, no portal secret, so that it can
 * run on a machine the portal's operators do not control.
 */

/** Far more than 63 proof lines and a note with its signatures need. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface LoggedCheckpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  /** The signed note as the log sent it: evidence of what the log claimed. */
  note: string;
}

const StateFile = z.object({
  origin: z.string().min(1),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  root_hash: z.string().refine((s) => decodeBase64(s)?.length === 32, 'must be a base64 SHA-256 hash'),
  note: z.string().min(1),
  cosigned_at: z.string(),
});

/** `{"<origin>": "<verifier key or PEM public key>" | [ ... ]}`: the logs a witness accepts, and their keys. */
const LogsFile = z.record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]));

/**
 * Reads the logs file: per origin, its keys as signed-note verifier keys (`<name>+<id>+<base64>`, type 0x01)
 * or PEM public keys (Ed25519, under the key name of the origin, as the portal signs). Throws with the origin
 * and the problem.
 */
export function parseLogsFile(json: string): Map<string, NoteVerifier[]> {
  const parsed = LogsFile.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`the logs file is not {"<origin>": "<key>" | ["<key>", …]}`);
  const logs = new Map<string, NoteVerifier[]>();
  for (const [origin, keys] of Object.entries(parsed.data)) {
    logs.set(
      origin,
      (Array.isArray(keys) ? keys : [keys]).map((key) => {
        try {
          if (!key.includes('-----BEGIN')) return parseVerifierKey(key);
          const publicKey = crypto.createPublicKey(key);
          if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
          return noteVerifier(origin, publicKey);
        } catch (err) {
          throw new Error(`the logs file: a key of "${origin}": ${err instanceof Error ? err.message : err}`);
        }
      }),
    );
  }
  return logs;
}

const heldStateDirs = new Set<string>();

/**
 * The state directory: one file per origin, `log-<SHA-256 of the origin>.json`, replaced atomically (a
 * temporary file, fsync, rename, fsync of the directory). A missing file is a log never cosigned; a file
 * that cannot be read is an error, never a fresh start, which would let a rolled-back log through.
 */
export class WitnessState {
  private readonly lockFile: string;

  private constructor(readonly dir: string) {
    this.lockFile = path.join(dir, 'witness.lock');
  }

  /** Opens the directory for this process alone: another live witness on it would break the atomicity. */
  static open(dir: string): WitnessState {
    const resolved = path.resolve(dir);
    fs.mkdirSync(resolved, { recursive: true, mode: 0o700 });
    if (heldStateDirs.has(resolved))
      throw new Error(`this process already serves the state directory ${resolved}`);
    const state = new WitnessState(resolved);
    state.lock();
    heldStateDirs.add(resolved);
    return state;
  }

  private lock() {
    try {
      fs.writeFileSync(this.lockFile, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(fs.readFileSync(this.lockFile, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
      throw new Error(`another witness (pid ${pid}) serves the state directory ${this.dir}`);
    // Left by a witness that ended without closing (or by this pid in an earlier life, in a container).
    fs.writeFileSync(this.lockFile, `${process.pid}\n`);
  }

  close() {
    heldStateDirs.delete(this.dir);
    fs.rmSync(this.lockFile, { force: true });
  }

  private file(origin: string) {
    return path.join(this.dir, `log-${crypto.createHash('sha256').update(origin).digest('hex')}.json`);
  }

  async read(origin: string): Promise<LoggedCheckpoint | null> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file(origin), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const record = StateFile.parse(JSON.parse(text));
    if (record.origin !== origin) throw new Error(`the state file of "${origin}" holds "${record.origin}"`);
    return { origin, size: record.size, rootHash: decodeBase64(record.root_hash)!, note: record.note };
  }

  async write(checkpoint: LoggedCheckpoint, cosignedAt: Date): Promise<void> {
    const target = this.file(checkpoint.origin);
    const temp = `${target}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    const record: z.infer<typeof StateFile> = {
      origin: checkpoint.origin,
      size: checkpoint.size,
      root_hash: checkpoint.rootHash.toString('base64'),
      note: checkpoint.note,
      cosigned_at: cosignedAt.toISOString(),
    };
    const handle = await fs.promises.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.promises.rename(temp, target);
    } catch (err) {
      await fs.promises.rm(temp, { force: true });
      throw err;
    }
    const dir = await fs.promises.open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Keeps a checkpoint the log signed that contradicts the one cosigned (same size, other root). */
  async keepEvidence(origin: string, body: string): Promise<string> {
    const dir = path.join(this.dir, 'evidence');
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const digest = crypto.createHash('sha256').update(origin).update('\n').update(body).digest('hex');
    const file = path.join(dir, `${digest.slice(0, 32)}.txt`);
    // The same request again (anyone may replay it) overwrites the same file.
    await fs.promises.writeFile(file, body, { mode: 0o600 });
    return file;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface WitnessOptions {
  /** The witness's key name, e.g. `witness.example/w1`: the name of its cosignature lines. */
  name: string;
  privateKey: crypto.KeyObject;
  logs: Map<string, NoteVerifier[]>;
  state: WitnessState;
  logger: Logger;
  /** POSIX seconds for cosignature timestamps (tests fix it). */
  now?: () => number;
}

interface Answer {
  status: number;
  body: string;
  contentType?: string;
  /** Why, for the log line. */
  reason: string;
  origin?: string;
  size?: number;
  old?: number;
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The tlog-witness `add-checkpoint` endpoint over a state directory. */
export class Witness {
  private readonly queues = new Map<string, Promise<unknown>>();
  readonly verifierKey: string;

  constructor(private readonly options: WitnessOptions) {
    this.verifierKey = cosignerVerifierKey(options.name, options.privateKey);
  }

  /** Runs `fn` after every earlier call for the same origin has finished: check and persist are one step. */
  private serial<T>(origin: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(origin) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.catch(() => undefined);
    this.queues.set(origin, tail);
    void tail.then(() => {
      if (this.queues.get(origin) === tail) this.queues.delete(origin);
    });
    return run;
  }

  /** The answer to one add-checkpoint body, following the order of checks of C2SP tlog-witness. */
  async addCheckpoint(body: string): Promise<Answer> {
    let request: ReturnType<typeof parseAddCheckpoint>;
    try {
      request = parseAddCheckpoint(body);
    } catch (err) {
      if (err instanceof WitnessProtocolError) return text(400, err.message);
      throw err;
    }
    const { checkpoint, oldSize, proof } = request;
    const about = { origin: checkpoint.origin, size: checkpoint.size, old: oldSize };
    const keys = this.options.logs.get(checkpoint.origin);
    if (!keys) return { ...text(404, 'unknown log origin'), ...about };
    const verdict = verifyNote(request.note, keys);
    if (!verdict.ok) return { ...text(403, `the checkpoint's signature: ${verdict.reason}`), ...about };
    if (oldSize > checkpoint.size)
      return { ...text(400, 'the old size is larger than the checkpoint size'), ...about };

    return this.serial(checkpoint.origin, async () => {
      const latest = await this.options.state.read(checkpoint.origin);
      const latestSize = latest?.size ?? 0;
      const latestRoot = latest?.rootHash ?? EMPTY_ROOT;
      if (oldSize !== latestSize) {
        const reason =
          checkpoint.size < latestSize
            ? `a checkpoint smaller than the one cosigned (${latestSize}): a rollback, or an old checkpoint replayed`
            : `the old size is not the size cosigned (${latestSize})`;
        return {
          status: 409,
          body: formatSize(latestSize),
          contentType: SIZE_CONTENT_TYPE,
          reason,
          ...about,
        };
      }
      if (oldSize === checkpoint.size && !latestRoot.equals(checkpoint.rootHash)) {
        const kept = await this.options.state.keepEvidence(checkpoint.origin, body);
        return {
          ...text(409, `a fork: another root than the one cosigned at size ${latestSize}`),
          reason: `a fork: the log signed another root at the size cosigned (kept in ${kept})`,
          ...about,
        };
      }
      if (!verifyConsistency(oldSize, checkpoint.size, proof, latestRoot, checkpoint.rootHash))
        return {
          ...text(422, `the consistency proof from size ${oldSize} does not verify`),
          ...about,
        };
      const now = new Date();
      if (!latest || checkpoint.size > latest.size)
        await this.options.state.write(
          {
            origin: checkpoint.origin,
            size: checkpoint.size,
            rootHash: checkpoint.rootHash,
            note: request.note,
          },
          now,
        );
      const timestamp = this.options.now?.() ?? Math.floor(now.getTime() / 1000);
      const cosignature = cosign(verdict.text, this.options.name, this.options.privateKey, timestamp);
      return { status: 200, body: cosignature, reason: 'cosigned', ...about };
    });
  }

  /** The HTTP handler: `POST /add-checkpoint`, nothing else. */
  handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://witness');
    const respond = (answer: Answer) => {
      res.writeHead(answer.status, {
        'Content-Type': answer.contentType ?? 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(answer.body),
      });
      res.end(answer.body);
      const line = {
        method: req.method,
        path: url.pathname,
        status: answer.status,
        origin: answer.origin,
        size: answer.size,
        old: answer.old,
        reason: answer.reason,
        remote: req.socket.remoteAddress,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
      };
      const level =
        answer.status === 409 || answer.status === 422 ? 'warn' : answer.status >= 500 ? 'error' : 'info';
      this.options.logger[level](line, 'add-checkpoint');
    };
    if (url.pathname !== '/add-checkpoint') return respond(text(404, 'not found'));
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return respond(text(405, 'add-checkpoint takes a POST'));
    }
    readBody(req)
      .then((body) => this.addCheckpoint(body))
      .then(respond, (err: unknown) => {
        if (err instanceof BodyTooLarge) {
          res.setHeader('Connection', 'close');
          return respond(text(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        }
        this.options.logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          'add-checkpoint failed',
        );
        respond(text(500, 'the witness could not process the checkpoint'));
      });
  };
}

function text(status: number, reason: string): Answer {
  return { status, body: `${reason}\n`, reason };
}

export interface RunningWitness {
  witness: Witness;
  url: string;
  close(): Promise<void>;
}

/** Starts the witness's HTTP server on `host:port` (port 0: any free port). */
export async function startWitness(
  options: Omit<WitnessOptions, 'state'> & { stateDir: string; host?: string; port?: number },
): Promise<RunningWitness> {
  const state = WitnessState.open(options.stateDir);
  const witness = new Witness({ ...options, state });
  const server = http.createServer(witness.handle);
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 7380, options.host ?? '127.0.0.1', resolve);
    });
  } catch (err) {
    state.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    witness,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          state.close();
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
