import http from 'node:http';
import { getDatabase } from '@/db/client';
import { quietServer } from '@/lib/http/access-log';
import { log } from '@/lib/log';
import { renderMetrics } from '@/lib/metrics';

// On globalThis: one listener per process, however often Next loads this module.
const shared = globalThis as { __portalMetricsServer?: http.Server };

/**
 * The internal metrics listener: `GET /metrics` on METRICS_PORT, a port of its own next to Next's. It is
 * not behind the network gate and carries no secret; what protects it is that nothing routes to it from
 * outside the cluster (the Service and the ingress name port 3000 only) and the NetworkPolicy admits the
 * monitoring namespace's Prometheus alone (deploy/k8s/base/networkpolicy.yaml). Its requests get no access
 * line. A port already taken is logged, and the portal serves on without metrics.
 */
export function startMetricsServer(port: number, host?: string): http.Server {
  if (shared.__portalMetricsServer) return shared.__portalMetricsServer;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Not found: only GET /metrics\n');
      return;
    }
    renderMetrics(getDatabase()).then(
      (body) => {
        res
          .writeHead(200, {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
            'cache-control': 'no-store',
          })
          .end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        log.error({ err }, 'metrics: rendering failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n');
      },
    );
  });
  quietServer(server);
  server.on('error', (err) => log.error({ err, port }, 'metrics: the listener could not start'));
  server.listen(port, host, () => log.info({ port }, 'metrics listening on /metrics'));
  // The metrics listener must not keep a stopping process alive.
  server.unref();
  shared.__portalMetricsServer = server;
  return server;
}
