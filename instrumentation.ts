/**
 * Next runs register() once per server process before it serves a request. The portal checks its
 * configuration and secrets here and exits, one line per problem, rather than fail on the first request
 * that needs them (DESIGN section 8: production refuses to start on insecure settings). Then it starts
 * OpenTelemetry tracing when OTEL_TRACES_ENABLED is set, and the SIEM deliverer in the background
 * (lib/siem/background.ts). The edge runtime (middleware) and the build do none of this.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || process.env.NEXT_PHASE === 'phase-production-build') return;
  const { exitOnStartupProblems } = await import('@/lib/startup');
  exitOnStartupProblems(process.env);
  const [{ config }, { startTracing }, { startSiemDelivery }] = await Promise.all([
    import('@/lib/config'),
    import('@/lib/tracing'),
    import('@/lib/siem/background'),
  ]);
  await startTracing(config());
  // Not awaited past the start: register() must return before the server takes requests.
  void startSiemDelivery();
}
