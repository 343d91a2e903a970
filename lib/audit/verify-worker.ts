/**
 * One worker thread of verifyChainParallel (lib/audit/verify-parallel.ts): checks each entry's HMAC, seq,
 * link and key within the chunks of seqs it is given. On PostgreSQL it reads a chunk itself with COPY on a
 * connection of its own; on the embedded database (which only the main thread can open) the main thread
 * runs the chunk's COPY and posts its bytes. Either way this thread parses the rows and checks them. What
 * joins the chunks is checked by the main thread.
 *
 * The portal runs it as a plain JavaScript bundle, `.next/tools/verify-worker.mjs` (scripts/build-tools.ts);
 * the command line and the benchmark load this file through tsx (verify-worker-tsx.ts).
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import postgres from 'postgres';
import { type ChainEntry, nextKeyId } from './chain';
import type { HmacKeyRing } from './keys';
import { entryVerifies } from './verify-core';

export interface WorkerData {
  /** Marks the worker's workerData, so that importing this module elsewhere starts nothing. */
  auditVerifyWorker: true;
  /** The postgres:// URL to COPY chunks from; null when the main thread posts each chunk's COPY output. */
  url: string | null;
  keys: Array<[string, string]>;
  /**
   * The thread's nice value (Linux: per thread), so that a verification inside the portal takes only the
   * CPU time its requests leave over. Null: unchanged.
   */
  niceness: number | null;
}

export type ToWorker =
  | { type: 'chunk'; from: number; to: number }
  | { type: 'copied'; from: number; to: number; data: ArrayBuffer }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'progress'; checked: number }
  | {
      type: 'done';
      from: number;
      to: number;
      checked: number;
      /**
       * For the main thread's joins: the first entry's seq, prev_hmac and key, and the last entry's seq,
       * hmac and the key it hands on (key continuity across chunk borders).
       */
      firstSeq: number | null;
      firstPrev: string | null;
      firstKey: string | null;
      lastSeq: number | null;
      lastHmac: string | null;
      nextKey: string | null;
      /** The first seq that did not verify (or the first missing one), for the main thread to classify. */
      badSeq: number | null;
    }
  | { type: 'error'; message: string };

// Raw columns: COPY's text output of uuid, enum, text and jsonb needs no formatting in SQL, and the
// timestamp is rewritten to toISOString's form here (the connection's time zone is UTC).
export const COPY_COLUMNS = `seq, id, occurred_at, request_id, actor_staff_id, actor_email, acting_org_id,
  acting_context_id, org_id, action, target_type, target_id, outcome, diff, src_ip, user_agent,
  enforcement_action, policy_rule_id, pack_id, framework_ref, hmac_key_id, prev_hmac, hmac`;

/** COPY_COLUMNS on a connection whose time zone is not known to be UTC (the portal's shared PGlite). */
export const COPY_COLUMNS_ANY_ZONE = COPY_COLUMNS.replace(
  'occurred_at,',
  `to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS"+00"'),`,
);

/** The COPY of chunk [from, to] in text format. */
export function copyQuery(columns: string, from: number, to: number, target: string): string {
  return `copy (select ${columns} from audit_log where seq >= ${from} and seq <= ${to} order by seq) to ${target}`;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** A field of COPY's text format: `\N` is null; backslash escapes are undone. */
function field(raw: string): string | null {
  if (raw === '\\N') return null;
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}

/** `2026-01-01 12:34:56.78+00` → `2026-01-01T12:34:56.780Z`, as the entry was chained. */
export function isoFromPostgres(text: string): string {
  const dot = text.indexOf('.', 19);
  const end = text.length - 3; // "+00"
  const ms =
    dot === -1
      ? '000'
      : text
          .slice(dot + 1, end)
          .padEnd(3, '0')
          .slice(0, 3);
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${ms}Z`;
}

/** One COPY text row as a ChainEntry. */
export function parseCopyRow(line: string): ChainEntry {
  const f = line.split('\t');
  const text = (i: number) => field(f[i]!);
  const diff = text(13);
  return {
    seq: Number(f[0]),
    id: f[1]!,
    occurred_at: isoFromPostgres(f[2]!),
    request_id: text(3),
    actor_staff_id: text(4),
    actor_email: text(5),
    acting_org_id: text(6),
    acting_context_id: text(7),
    org_id: text(8),
    action: text(9)!,
    target_type: text(10),
    target_id: text(11),
    outcome: f[12] as ChainEntry['outcome'],
    diff: diff === null ? null : JSON.parse(diff),
    src_ip: text(14),
    user_agent: text(15),
    enforcement_action: text(16),
    policy_rule_id: text(17),
    pack_id: text(18),
    framework_ref: text(19),
    hmac_key_id: text(20)!,
    prev_hmac: f[21]!,
    hmac: f[22]!,
  };
}

function openCopy(url: string, from: number, to: number) {
  // A connection per chunk: postgres.js 3.4 can leave a connection's socket paused after a COPY whose
  // last data filled the stream's buffer, and the next query on it then never gets an answer.
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'arbitex-audit-verify', TimeZone: 'UTC', DateStyle: 'ISO' },
  });
  const stream = sql.unsafe(copyQuery(COPY_COLUMNS, from, to, 'stdout')).readable() as Promise<
    AsyncIterable<Buffer>
  >;
  stream.catch(() => {}); // awaited, and its error reported, when the chunk's turn comes
  return { sql, stream };
}

type Done = Extract<FromWorker, { type: 'done' }>;

function newDone(from: number, to: number): Done {
  return {
    type: 'done',
    from,
    to,
    checked: 0,
    firstSeq: null,
    firstPrev: null,
    firstKey: null,
    lastSeq: null,
    lastHmac: null,
    nextKey: null,
    badSeq: null,
  };
}

/** Checks a chunk's entries in order; `add` answers false at the first one that does not verify. */
function chunkChecker(keys: HmacKeyRing, done: Done, post: (m: FromWorker) => void) {
  let expected = done.from;
  let prev: string | null = null;
  let reported = 0;
  return {
    add(entry: ChainEntry): boolean {
      if (done.firstSeq === null) {
        done.firstSeq = entry.seq;
        done.firstPrev = entry.prev_hmac;
        done.firstKey = entry.hmac_key_id;
      }
      if (!entryVerifies(keys, entry, expected, prev, done.nextKey)) {
        done.badSeq = Math.min(entry.seq, expected);
        return false;
      }
      prev = entry.hmac;
      done.lastSeq = entry.seq;
      done.lastHmac = entry.hmac;
      done.nextKey = nextKeyId(entry);
      expected++;
      done.checked++;
      return true;
    },
    /** Progress every 10,000 entries (`final`: whatever is left). */
    report(final = false) {
      if (final || done.checked - reported >= 10_000) {
        post({ type: 'progress', checked: done.checked - reported });
        reported = done.checked;
      }
    },
    end() {
      if (done.badSeq === null && expected <= done.to) done.badSeq = expected; // the chunk ends early
      this.report(true);
    },
  };
}

async function verifyCopyChunk(
  copy: ReturnType<typeof openCopy>,
  keys: HmacKeyRing,
  from: number,
  to: number,
  post: (m: FromWorker) => void,
) {
  const done = newDone(from, to);
  try {
    await readChunk(await copy.stream, chunkChecker(keys, done, post), done);
  } finally {
    await copy.sql.end({ timeout: 1 });
  }
  post(done);
}

async function readChunk(stream: AsyncIterable<Buffer>, check: ReturnType<typeof chunkChecker>, done: Done) {
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (done.badSeq !== null) continue; // drain the rest of the COPY
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (!check.add(parseCopyRow(line))) break;
    check.report();
  }
  check.end();
}

/** A chunk whose COPY output the main thread posted (the embedded database). */
async function verifyPostedChunk(
  m: Extract<ToWorker, { type: 'copied' }>,
  keys: HmacKeyRing,
  post: (m: FromWorker) => void,
) {
  const done = newDone(m.from, m.to);
  async function* bytes() {
    yield Buffer.from(m.data);
  }
  await readChunk(bytes(), chunkChecker(keys, done, post), done);
  post(done);
}

if (parentPort && (workerData as WorkerData | undefined)?.auditVerifyWorker === true) {
  const port = parentPort;
  const data = workerData as WorkerData;
  if (data.niceness !== null) {
    try {
      os.setPriority(data.niceness); // this thread only, on Linux
    } catch {
      // not permitted or not supported: run at the process's priority
    }
  }
  const keys: HmacKeyRing = {
    activeId: data.keys[0]?.[0] ?? '',
    keys: new Map(data.keys.map(([id, b64]) => [id, Buffer.from(b64, 'base64')])),
  };
  const post = (m: FromWorker) => port.postMessage(m);
  const fail = (err: unknown) =>
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  let queue = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') {
      void queue.finally(() => process.exit(0));
      return;
    }
    if (m.type === 'copied') {
      queue = queue.then(() => verifyPostedChunk(m, keys, post)).catch(fail);
      return;
    }
    if (!data.url) {
      fail(new Error('a COPY chunk was asked for, but the worker has no database URL'));
      return;
    }
    // The chunk's COPY starts now, while the chunk before it is still being verified.
    const copy = openCopy(data.url, m.from, m.to);
    queue = queue.then(() => verifyCopyChunk(copy, keys, m.from, m.to, post).catch(fail));
  });
}
