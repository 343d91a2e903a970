/**
 * Next calls register() once per server process, before it serves. Every replica starts the audit chain's
 * ticker here (periodic checkpoints, key-ring sync, abandoned verification runs): it runs inside the
 * server process because the embedded database allows only that process, and the ticker's own locking
 * makes N replicas write one checkpoint per interval. `next build` loads this file too; nothing starts then.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || process.env.NEXT_PHASE === 'phase-production-build') return;
  const { startAuditTicker } = await import('./lib/services/audit/ticker');
  await startAuditTicker();
}
