/**
 * Next runs register() once per server process before it serves a request. The portal checks its
 * configuration and secrets here and exits, one line per problem, rather than fail on the first request
 * that needs them (DESIGN section 8: production refuses to start on insecure settings). Then it starts
 * OpenTelemetry tracing when OTEL_TRACES_ENABLED is set, the SIEM deliverer (lib/siem/background.ts), and
 * the audit chain's ticker (periodic checkpoints, key-ring sync, abandoned verification runs; its own
 * locking makes N replicas write one checkpoint per interval). They run inside the server process because
 * the embedded database allows only that process. The edge runtime (middleware) and `next build` start
 * nothing.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || process.env.NEXT_PHASE === 'phase-production-build') return;
  const { exitOnStartupProblems, startupWarnings } = await import('@/lib/startup');
  exitOnStartupProblems(process.env);
  const [{ config }, { log }, { startTracing }, { startSiemDelivery }, { startAuditTicker }] =
    await Promise.all([
      import('@/lib/config'),
      import('@/lib/log'),
      import('@/lib/tracing'),
      import('@/lib/siem/background'),
      import('@/lib/services/audit/ticker'),
    ]);
  for (const warning of startupWarnings(config())) log.warn(warning);
  await startTracing(config());
  await startAuditTicker();
  // Not awaited past the start: register() must return before the server takes requests.
  void startSiemDelivery();
}
