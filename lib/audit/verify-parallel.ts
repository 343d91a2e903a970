import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { type HmacKeyRing, hmacKeyRing } from './keys';
import { checkAgainstCheckpoints, readAnchor, verifyChain, type VerifyOptions } from './verify';
import type { VerifyResult } from './verify-core';
import type { FromWorker, ToWorker, WorkerData } from './verify-worker';

export interface ParallelOptions extends VerifyOptions {
  /** The postgres:// URL the workers connect to (each opens one connection). */
  url: string;
  /** Worker threads; default: the cores available, at least 2. */
  workers?: number;
  /** Entries per chunk. */
  chunkSize?: number;
}

/**
 * A worker thread running lib/audit/verify-worker.ts. The worker is TypeScript: it registers tsx's
 * loader itself, since Node 20 does not pass the parent's loader on to worker threads. So this runs
 * where tsx is installed: the command line and the benchmark (not inside the Next server, which verifies
 * in-process with verifyChain).
 */
function startWorker(data: WorkerData): Worker {
  const url = new URL('./verify-worker.ts', import.meta.url).href;
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`,
    { eval: true, workerData: data },
  );
}

/**
 * verifyChain for large chains on Postgres: the range is cut into chunks that worker threads read (COPY,
 * one connection each) and verify at the same time, since each entry needs only its stored prev_hmac.
 * The main thread checks the joins between chunks. At the first chunk with a problem, the sequential
 * verifyChain takes over from that chunk's start to find and classify the first break exactly. Then the
 * checkpoints are checked as verifyChain does.
 */
export async function verifyChainParallel(db: Db, opts: ParallelOptions): Promise<VerifyResult> {
  const keys: HmacKeyRing = opts.keys ?? hmacKeyRing();
  const fromSeq = opts.fromSeq ?? 1;
  const [head] = await rows<{ seq: string | null }>(
    db,
    sql`select max(seq)::text as seq from audit_log where seq <= ${opts.toSeq ?? Number.MAX_SAFE_INTEGER}`,
  );
  const toSeq = Math.min(opts.toSeq ?? Number.MAX_SAFE_INTEGER, Number(head?.seq ?? 0));
  const chunkSize = opts.chunkSize ?? 50_000;
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
    url: opts.url,
    keys: [...keys.keys].map(([id, key]) => [id, key.toString('base64')]),
  };

  let checked = 0;
  let next = 0;
  let stopAt = Number.POSITIVE_INFINITY; // chunks from the first bad one on are not handed out
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, () => {
        const worker = startWorker(data);
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          let inFlight = 0;
          let stopped = false;
          const give = () => {
            const chunk = chunks[next];
            if (chunk && next <= stopAt) {
              next++;
              inFlight++;
              worker.postMessage({ type: 'chunk', ...chunk } satisfies ToWorker);
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
