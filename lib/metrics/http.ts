/**
 * The request-duration histogram of this process, fed by the access log (lib/http/access-log.ts). Its
 * labels are bounded by construction: a method from a fixed list, a route class (never a path: paths carry
 * ids and tokens), and the status class.
 */

/** Upper bounds, in seconds. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export type RouteClass = 'page' | 'api' | 'auth' | 'health' | 'ready' | 'static';

/** What kind of request a path is, for the `route` label. */
export function routeClass(path: string): RouteClass {
  if (path === '/api/health') return 'health';
  if (path === '/api/ready') return 'ready';
  if (path.startsWith('/api/auth/')) return 'auth';
  if (path.startsWith('/api/') || path.startsWith('/.well-known/')) return 'api';
  if (path.startsWith('/_next/') || path === '/favicon.ico') return 'static';
  return 'page';
}

interface Series {
  /** Per bucket, not cumulative; the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

// On globalThis: Next may load this module once per bundle (instrumentation's and the routes').
const shared = globalThis as { __portalHttpHistogram?: Map<string, Series> };
function series(): Map<string, Series> {
  return (shared.__portalHttpHistogram ??= new Map());
}

export function observeRequest(method: string, path: string, status: number, seconds: number): void {
  const labels = labelText({
    method: METHODS.has(method) ? method : 'other',
    route: routeClass(path),
    status: `${Math.floor(status / 100)}xx`,
  });
  let s = series().get(labels);
  if (!s) {
    s = { counts: new Array<number>(DURATION_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 };
    series().set(labels, s);
  }
  const i = DURATION_BUCKETS_S.findIndex((le) => seconds <= le);
  s.counts[i === -1 ? DURATION_BUCKETS_S.length : i]! += 1;
  s.sum += seconds;
  s.count += 1;
}

const NAME = 'portal_http_request_duration_seconds';

/** The histogram in the Prometheus text format. */
export function renderHttpHistogram(): string[] {
  const lines = [
    `# HELP ${NAME} Time from a request's headers to the last byte of its answer, every request this process served (the metrics listener's own excepted).`,
    `# TYPE ${NAME} histogram`,
  ];
  for (const [labels, s] of [...series()].sort(([a], [b]) => a.localeCompare(b))) {
    let cumulative = 0;
    DURATION_BUCKETS_S.forEach((le, i) => {
      cumulative += s.counts[i]!;
      lines.push(`${NAME}_bucket{${labels},le="${le}"} ${cumulative}`);
    });
    lines.push(`${NAME}_bucket{${labels},le="+Inf"} ${s.count}`);
    lines.push(`${NAME}_sum{${labels}} ${s.sum}`);
    lines.push(`${NAME}_count{${labels}} ${s.count}`);
  }
  return lines;
}

/** `name="value",…` with the values escaped as the text format asks. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}
