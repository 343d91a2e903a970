import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { type Db, pgliteCopy, rows } from '@/db/client';
import { type HmacKeyRing, hmacKeyRing } from './keys';
import { checkAgainstCheckpoints, readAnchor, verifyChain, type VerifyOptions } from './verify';
import type { VerifyResult } from './verify-core';
import {
  COPY_COLUMNS_ANY_ZONE,
  copyQuery,
  type FromWorker,
  type ToWorker,
  type WorkerData,
} from './verify-worker';

/** Starts one worker thread running lib/audit/verify-worker.ts (as a bundle, or through tsx). */
export type WorkerStarter = (data: WorkerData) => Worker;

export interface ParallelOptions extends VerifyOptions {
  /** How a worker is started: `bundledWorker(file)` in the portal, `tsxWorker` from the command line. */
  startWorker: WorkerStarter;
  /**
   * The postgres:// URL the workers connect to (each opens one connection per chunk). Null on the
   * embedded database, which no other thread can open: the main thread runs each chunk's COPY and posts
   * the bytes.
   */
  url: string | null;
  /** Worker threads; default: the cores available, at least 2. */
  workers?: number;
  /** Entries per chunk; default 50,000 with a URL, 500 (about 10 ms of the main thread's time) without. */
  chunkSize?: number;
  /** The workers' nice value (Linux: per thread); default unchanged. */
  niceness?: number;
}

/** A worker started from a plain JavaScript bundle (scripts/build-tools.ts), as the Next server needs. */
export function bundledWorker(file: string): WorkerStarter {
  return (data) => new Worker(/* turbopackIgnore: true */ file, { workerData: data });
}

/**
 * verifyChain for large chains, off the main thread: the range is cut into chunks that worker threads
 * verify at the same time, since each entry needs only its stored prev_hmac. On PostgreSQL each worker
 * reads its chunks itself (COPY, one connection each); on the embedded database the main thread runs a
 * chunk's COPY (500 entries) and posts its bytes. The main thread checks the joins between chunks. At the
 * first chunk with a problem, the sequential verifyChain takes over from that chunk's start to find and
 * classify the first break exactly. Then the checkpoints are checked as verifyChain does.
 */
export async function verifyChainParallel(db: Db, opts: ParallelOptions): Promise<VerifyResult> {
  const keys: HmacKeyRing = opts.keys ?? hmacKeyRing();
  const fromSeq = opts.fromSeq ?? 1;
  const [head] = await rows<{ seq: string | null }>(
    db,
    sql`select max(seq)::text as seq from audit_log where seq <= ${opts.toSeq ?? Number.MAX_SAFE_INTEGER}`,
  );
  const toSeq = Math.min(opts.toSeq ?? Number.MAX_SAFE_INTEGER, Number(head?.seq ?? 0));
  const chunkSize = opts.chunkSize ?? (opts.url ? 50_000 : 500);
  const copy = opts.url ? null : pgliteCopy(db);
  if (!opts.url && !copy) throw new Error('verifyChainParallel needs the database URL on PostgreSQL');
  const anchor = await readAnchor(db, fromSeq);
  if (anchor === null) {
    return verifyChain(db, { ...opts, fromSeq, toSeq: opts.toSeq });
  }

  const chunks: Array<{ from: number; to: number }> = [];
  for (let from = fromSeq; from <= toSeq; from += chunkSize)
    chunks.push({ from, to: Math.min(toSeq, from + chunkSize - 1) });
  const results = new Map<number, Extract<FromWorker, { type: 'done' }>>();
  const count = Math.max(1, Math.min(opts.workers ?? Math.max(2, os.availableParallelism()), chunks.length));
  const data: WorkerData = {
    auditVerifyWorker: true,
    url: opts.url,
    keys: [...keys.keys].map(([id, key]) => [id, key.toString('base64')]),
    niceness: opts.niceness ?? null,
  };
  /** What a worker is sent for a chunk: its range (the worker COPYs it), or its COPY output read here. */
  const message = async (chunk: { from: number; to: number }): Promise<ToWorker> => {
    if (!copy) return { type: 'chunk', ...chunk };
    // One COPY per turn of the event loop, so that requests get in between.
    await new Promise((resolve) => setImmediate(resolve));
    return {
      type: 'copied',
      ...chunk,
      data: await copy(copyQuery(COPY_COLUMNS_ANY_ZONE, chunk.from, chunk.to, "'/dev/blob'")),
    };
  };

  let checked = 0;
  let next = 0;
  let stopAt = Number.POSITIVE_INFINITY; // chunks from the first bad one on are not handed out
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, () => {
        const worker = opts.startWorker(data);
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          let inFlight = 0;
          let stopped = false;
          // Messages go out in chunk order, also when the main thread reads the entries.
          let sending = Promise.resolve();
          const give = () => {
            const chunk = chunks[next];
            if (chunk && next <= stopAt) {
              next++;
              inFlight++;
              const reading = message(chunk);
              reading.catch(() => {}); // handled below, in its turn
              sending = sending
                .then(() => reading)
                .then((m) => worker.postMessage(m, m.type === 'copied' ? [m.data] : []))
                .catch(reject);
            } else if (inFlight === 0 && !stopped) {
              stopped = true;
              worker.postMessage({ type: 'stop' } satisfies ToWorker);
              resolve();
            }
          };
          worker.on('message', (m: FromWorker) => {
            if (m.type === 'progress') {
              checked += m.checked;
              opts.onProgress?.(checked);
            } else if (m.type === 'done') {
              inFlight--;
              results.set(m.from, m);
              if (m.badSeq !== null)
                stopAt = Math.min(
                  stopAt,
                  chunks.findIndex((c) => c.from === m.from),
                );
              give();
            } else {
              reject(new Error(`audit verification worker: ${m.message}`));
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`)),
          );
          // Two chunks in hand: the worker reads the next one while it verifies the first.
          give();
          give();
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }

  // Join the chunks in order: each must start where the one before ended, with the key it handed on.
  let prevHmac = anchor.hmac;
  let expectedKey = anchor.nextKey;
  let expected = fromSeq;
  let verified = 0;
  for (const chunk of chunks) {
    const r = results.get(chunk.from);
    const joined =
      r &&
      r.badSeq === null &&
      r.firstSeq === expected &&
      r.firstPrev === prevHmac &&
      (expectedKey === null || r.firstKey === expectedKey) &&
      r.lastSeq === chunk.to;
    if (!joined) {
      // Find and name the first break exactly, from this chunk on, the ordinary way.
      const rest = await verifyChain(db, {
        keys,
        fromSeq: chunk.from,
        toSeq: opts.toSeq,
        checkpoints: false,
        onProgress: (n) => opts.onProgress?.(verified + n),
      });
      const chain: VerifyResult = { ...rest, checked: verified + rest.checked };
      return opts.checkpoints === false ? chain : checkAgainstCheckpoints(db, chain, { ...opts, fromSeq });
    }
    verified += r.checked;
    prevHmac = r.lastHmac!;
    expectedKey = r.nextKey;
    expected = chunk.to + 1;
  }
  const chain: VerifyResult = { ok: true, checked: verified, headSeq: expected - 1, headHmac: prevHmac };
  return opts.checkpoints === false ? chain : checkAgainstCheckpoints(db, chain, { ...opts, fromSeq });
}
