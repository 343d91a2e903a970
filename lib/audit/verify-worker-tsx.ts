import { Worker } from 'node:worker_threads';
import type { WorkerStarter } from './verify-parallel';

/**
 * A worker thread running lib/audit/verify-worker.ts as TypeScript: it registers tsx's loader itself,
 * since Node 20 does not pass the parent's loader on to worker threads. So this runs where tsx is
 * installed: the command line, the benchmarks and the tests. The Next server cannot load TypeScript in a
 * worker; it starts the bundle instead (`bundledWorker`, lib/services/audit/verify.ts).
 */
export const tsxWorker: WorkerStarter = (data) => {
  const url = new URL('./verify-worker.ts', import.meta.url).href;
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`,
    { eval: true, workerData: data },
  );
};
