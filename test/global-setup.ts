import { buildTools, toolsStale } from '@/scripts/build-tools';

/**
 * vitest's global setup: the tool bundles, among them `.next/tools/verify-worker.mjs`, the worker thread a
 * verification started from the portal runs (lib/services/audit/verify.ts), rebuilt when older than their
 * sources, so that the tests run the worker the server would.
 */
export default async function setup(): Promise<void> {
  if (toolsStale()) await buildTools();
}
