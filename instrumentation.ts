import type { Instrumentation } from 'next';

/**
 * Next runs register() once per server process before it serves a request. The portal checks its
 * configuration and secrets here and exits, one line per problem, rather than fail on the first request
 * that needs them (DESIGN section 8: production refuses to start on insecure settings). Then every line the
 * process prints goes through pino (console output and uncaught errors, lib/log.ts), every request gets one
 * access line (lib/http/access-log.ts), and the internal metrics listener starts when METRICS_PORT is set
 * (lib/metrics/server.ts). Then it starts OpenTelemetry tracing when OTEL_TRACES_ENABLED is set, the SIEM
 * deliverer (lib/siem/background.ts), and the audit chain's ticker (periodic checkpoints, key-ring sync,
 * abandoned verification runs; its own locking makes N replicas write one checkpoint per interval). They
 * run inside the server process because the embedded database allows only that process. The edge runtime
 * (middleware) and `next build` start nothing.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || process.env.NEXT_PHASE === 'phase-production-build') return;
  const { exitOnStartupProblems, startupWarnings } = await import('@/lib/startup');
  exitOnStartupProblems(process.env);
  const [{ config }, { log, installProcessLogging }, { startAccessLog }] = await Promise.all([
    import('@/lib/config'),
    import('@/lib/log'),
    import('@/lib/http/access-log'),
  ]);
  installProcessLogging(log);
  startAccessLog();
  const c = config();
  if (c.METRICS_PORT) {
    const { startMetricsServer } = await import('@/lib/metrics/server');
    startMetricsServer(c.METRICS_PORT, process.env.HOSTNAME);
  }
  const [{ startTracing }, { startSiemDelivery }, { startAuditTicker }] = await Promise.all([
    import('@/lib/tracing'),
    import('@/lib/siem/background'),
    import('@/lib/services/audit/ticker'),
  ]);
  for (const warning of startupWarnings(c)) log.warn(warning);
  await startTracing(c);
  await startAuditTicker();
  // Not awaited past the start: register() must return before the server takes requests.
  void startSiemDelivery();
}

/**
 * Next calls this for an error thrown while rendering a page or running a route handler, middleware or a
 * server action: one pino line with the route, the request id and the error as lib/log.ts shows it (a
 * failed query without its parameters); the path without its query string or enrolment token.
 */
export const onRequestError: Instrumentation.onRequestError = async (err, request, context) => {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const [{ log }, { loggablePath }] = await Promise.all([
    import('@/lib/log'),
    import('@/lib/http/access-log'),
  ]);
  const requestId = request.headers['x-request-id'];
  log.error(
    {
      err,
      request_id: typeof requestId === 'string' ? requestId : null,
      method: request.method,
      path: loggablePath(request.path),
      route: context.routePath,
      route_type: context.routeType,
      router: context.routerKind,
    },
    'request error',
  );
};
