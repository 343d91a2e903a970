/**
 * Next runs register() once per server process before it serves a request. The portal checks its
 * configuration and secrets here and exits, one line per problem, rather than fail on the first request
 * that needs them (DESIGN section 8: production refuses to start on insecure settings). Then it starts
 * OpenTelemetry tracing when OTEL_TRACES_ENABLED is set.
 */
export async function register() {
  // Written this way so that the edge bundle (middleware) leaves the Node-only check out.
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { exitOnStartupProblems } = await import('@/lib/startup');
    exitOnStartupProblems(process.env);
    const [{ config }, { startTracing }] = await Promise.all([
      import('@/lib/config'),
      import('@/lib/tracing'),
    ]);
    await startTracing(config());
  }
}
