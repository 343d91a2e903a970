import pino from 'pino';
import { config } from '@/lib/config';
import { isSecretField, REDACTED } from '@/lib/audit/redact';

/**
 * One JSON object per line on stdout: `time` (ISO 8601 UTC), `level`, `msg`, and on request-scoped lines
 * (`requestLog`) `request_id`, `staff_id` and `org_id`. Secret fields are redacted wherever they appear.
 */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrub(obj) as Record<string, unknown>,
      },
    },
    destination,
  );
}

export const log = createLogger(config().LOG_LEVEL);

/** The fields every line about a request carries; null when there is no session or acting context. */
export interface RequestFields {
  requestId: string | null;
  staffId?: string | null;
  /** The organisation acted for (the session's acting context), if any. */
  orgId?: string | null;
}

export function requestLog({ requestId, staffId, orgId }: RequestFields) {
  return log.child({ request_id: requestId, staff_id: staffId ?? null, org_id: orgId ?? null });
}

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 6 || !value || typeof value !== 'object') return value;
  if (value instanceof Error) return loggableError(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      isSecretField(k) && v != null ? REDACTED : scrub(v, depth + 1),
    ]),
  );
}

/** A PostgreSQL error (postgres.js, PGlite): its SQLSTATE, and a severity or routine. */
function sqlState(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; severity?: unknown; routine?: unknown };
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && (e.severity || e.routine)
    ? e.code
    : undefined;
}

/**
 * An error as a log line shows it. A failed query (drizzle's DrizzleQueryError puts the parameters in its
 * message) keeps its query text and the PostgreSQL code only: parameters, and PostgreSQL's own message and
 * detail, which quote values, never reach the log.
 */
function loggableError(err: Error): Record<string, unknown> {
  const frames = (err.stack ?? '').split('\n').filter((l) => l.startsWith('    at '));
  if ('query' in err && 'params' in err) {
    const message = `Failed query: ${String(err.query)}`;
    return {
      type: 'DrizzleQueryError',
      message,
      code: sqlState(err.cause),
      stack: ['DrizzleQueryError: ' + message, ...frames].join('\n'),
    };
  }
  const code = sqlState(err);
  if (code) {
    const message = `PostgreSQL error ${code}`;
    return { type: err.name, message, code, stack: [`${err.name}: ${message}`, ...frames].join('\n') };
  }
  return { type: err.name, message: err.message, stack: err.stack };
}
