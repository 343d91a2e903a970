/**
 * One worker thread of verifyChainParallel (lib/audit/verify-parallel.ts): reads the chunks of seqs it is
 * given from Postgres with COPY on a connection of its own, parses the rows and checks each entry's HMAC,
 * seq and link within the chunk. What joins the chunks is checked by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import postgres from 'postgres';
import { type ChainEntry, nextKeyId } from './chain';
import type { HmacKeyRing } from './keys';
import { entryVerifies } from './verify-core';

export interface WorkerData {
  url: string;
  keys: Array<[string, string]>;
}

export type ToWorker = { type: 'chunk'; from: number; to: number } | { type: 'stop' };

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
  const stream = sql
    .unsafe(
      `copy (select ${COPY_COLUMNS} from audit_log where seq >= ${from} and seq <= ${to} order by seq) to stdout`,
    )
    .readable() as Promise<AsyncIterable<Buffer>>;
  stream.catch(() => {}); // awaited, and its error reported, when the chunk's turn comes
  return { sql, stream };
}

async function verifyChunk(
  copy: ReturnType<typeof openCopy>,
  keys: HmacKeyRing,
  from: number,
  to: number,
  post: (m: FromWorker) => void,
) {
  const done: Extract<FromWorker, { type: 'done' }> = {
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
  try {
    await readChunk(await copy.stream, keys, done, post);
  } finally {
    await copy.sql.end({ timeout: 1 });
  }
  post(done);
}

async function readChunk(
  stream: AsyncIterable<Buffer>,
  keys: HmacKeyRing,
  done: Extract<FromWorker, { type: 'done' }>,
  post: (m: FromWorker) => void,
) {
  let expected = done.from;
  let prev: string | null = null;
  let reported = 0;
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (done.badSeq !== null) continue; // drain the rest of the COPY
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const entry = parseCopyRow(line);
      if (done.firstSeq === null) {
        done.firstSeq = entry.seq;
        done.firstPrev = entry.prev_hmac;
        done.firstKey = entry.hmac_key_id;
      }
      if (!entryVerifies(keys, entry, expected, prev, done.nextKey)) {
        done.badSeq = Math.min(entry.seq, expected);
        break;
      }
      prev = entry.hmac;
      done.lastSeq = entry.seq;
      done.lastHmac = entry.hmac;
      done.nextKey = nextKeyId(entry);
      expected++;
      done.checked++;
    }
    if (done.checked - reported >= 10_000) {
      post({ type: 'progress', checked: done.checked - reported });
      reported = done.checked;
    }
  }
  if (done.badSeq === null && expected <= done.to) done.badSeq = expected; // the chunk ends early
  post({ type: 'progress', checked: done.checked - reported });
}

if (parentPort && (workerData as WorkerData | undefined)?.url) {
  const port = parentPort;
  const data = workerData as WorkerData;
  const keys: HmacKeyRing = {
    activeId: data.keys[0]?.[0] ?? '',
    keys: new Map(data.keys.map(([id, b64]) => [id, Buffer.from(b64, 'base64')])),
  };
  const post = (m: FromWorker) => port.postMessage(m);
  let queue = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') {
      void queue.finally(() => process.exit(0));
      return;
    }
    // The chunk's COPY starts now, while the chunk before it is still being verified.
    const copy = openCopy(data.url, m.from, m.to);
    queue = queue.then(() =>
      verifyChunk(copy, keys, m.from, m.to, post).catch((err: unknown) =>
        post({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
      ),
    );
  });
}
