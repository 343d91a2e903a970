import { z } from 'zod';
import { can, requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { AppError, parseInput } from '@/lib/errors';
import { log } from '@/lib/log';
import { type PoolMark, poolMarks } from '@/lib/queries/audit';
import { orgsBySlug } from '@/lib/queries/outposts';
import { readOptionalSecret } from '@/lib/secrets';
import { PrometheusClient, PrometheusError } from './client';
import { RANGES } from './promql';
import {
  type PoolHistory,
  type PoolSnapshot,
  readHistory,
  readRaw,
  shapeSnapshot,
  withOrgs,
} from './snapshot';

/**
 * lib/pool: the GPU inference pool view's adapter to the Prometheus HTTP API (DESIGN section 7).
 * Route handlers call `poolSnapshot` and `poolHistory`; both need `pool.read`.
 */

export type { PoolHistory, PoolSnapshot } from './snapshot';
export type { PoolMark } from '@/lib/queries/audit';
/** What /api/pool/history answers: the charts' series and the staff actions to mark on them. */
export type PoolCharts = PoolHistory & { marks: PoolMark[] };

/** The variable to set; the page and the API name it when it is missing. */
export const PROMETHEUS_URL_VARIABLE = 'PROMETHEUS_URL';

export class PoolNotConfiguredError extends AppError {
  constructor() {
    super(
      503,
      'pool_not_configured',
      `The GPU pool view is not configured: set ${PROMETHEUS_URL_VARIABLE} to the Prometheus server's URL.`,
      { variable: PROMETHEUS_URL_VARIABLE },
    );
  }
}

/** Prometheus failed; the message names its URL and the error. The portal answers 502. */
export class PoolUnavailableError extends AppError {
  constructor(err: PrometheusError) {
    super(502, 'prometheus_unavailable', err.message, {
      url: err.url,
      kind: err.kind,
      ...(err.status !== undefined && { status: err.status }),
      ...(err.errorType !== undefined && { errorType: err.errorType }),
    });
  }
}

function client(): PrometheusClient {
  const c = config();
  if (!c.PROMETHEUS_URL) throw new PoolNotConfiguredError();
  return new PrometheusClient({
    url: c.PROMETHEUS_URL,
    timeoutMs: c.PROMETHEUS_TIMEOUT_MS,
    bearerToken: readOptionalSecret('prometheus-bearer-token'),
  });
}

async function reading<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!(err instanceof PrometheusError)) throw err;
    log.warn({ url: err.url, kind: err.kind, status: err.status, error_type: err.errorType }, what);
    throw new PoolUnavailableError(err);
  }
}

/**
 * The figures are evaluated this many seconds in the past: a scrape in flight at "now" may still add a
 * sample stamped before it, and a figure should not change after it was shown (the tests compare them).
 */
export const EVALUATION_LAG_S = 2;

/** The pool's figures now. */
export async function poolSnapshot(ctx: StaffCtx): Promise<PoolSnapshot> {
  requirePermission(ctx, 'pool.read');
  const prometheus = client();
  const c = config();
  const raw = await reading('pool snapshot: Prometheus failed', () =>
    readRaw(prometheus, { nodePattern: c.POOL_NODE_PATTERN }, Date.now() / 1000 - EVALUATION_LAG_S),
  );
  const snapshot = shapeSnapshot(raw, prometheus.url, c.POOL_P95_TARGET_MS, c.POOL_STALE_AFTER_S);
  const slugs = [...new Set(snapshot.failClosed.byOrg.flatMap((r) => (r.org === null ? [] : [r.org])))];
  snapshot.failClosed.byOrg = withOrgs(snapshot.failClosed.byOrg, await orgsBySlug(ctx, slugs));
  return snapshot;
}

const Range = z.enum(Object.keys(RANGES) as [keyof typeof RANGES], 'The range is 1h or 24h.');

/** The charts' series over the last hour or day, with the staff actions of that time marked on them. */
export async function poolHistory(ctx: StaffCtx, range: unknown): Promise<PoolCharts> {
  requirePermission(ctx, 'pool.read');
  const key = parseInput(Range, range);
  const prometheus = client();
  const c = config();
  const history = await reading('pool history: Prometheus failed', () =>
    readHistory(prometheus, { nodePattern: c.POOL_NODE_PATTERN }, key, Date.now() / 1000),
  );
  const marks = can(ctx.role, 'audit.read')
    ? await poolMarks(ctx, new Date(history.start * 1000), new Date(history.end * 1000 + 1000 * history.step))
    : [];
  return { ...history, marks };
}
