import pino from 'pino';
import { config } from '@/lib/config';
import { isSecretField, REDACTED } from '@/lib/audit/redact';

/**
 * One JSON object per line on stdout. Request-scoped loggers carry request_id, staff_id and org_id:
 * `log.child({ request_id, staff_id, org_id })`. Secret fields are redacted wherever they appear.
 */
export const log = pino({
  level: config().LOG_LEVEL,
  base: undefined,
  messageKey: 'msg',
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: {
    level: (label) => ({ level: label }),
    log: (obj) => scrub(obj) as Record<string, unknown>,
  },
});

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
