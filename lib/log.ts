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
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      isSecretField(k) && v != null ? REDACTED : scrub(v, depth + 1),
    ]),
  );
}
