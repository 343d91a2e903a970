import { inspect } from 'node:util';
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
 * message) keeps its query text and the PostgreSQL code only, also as `cause.code`: parameters, and
 * PostgreSQL's own message and detail, which quote values, never reach the log. Another error's `cause`
 * is shown the same way, a few levels deep.
 */
export function loggableError(err: Error, depth = 0): Record<string, unknown> {
  const frames = (err.stack ?? '').split('\n').filter((l) => l.startsWith('    at '));
  if ('query' in err && 'params' in err) {
    const message = `Failed query: ${String(err.query)}`;
    const code = sqlState(err.cause);
    return {
      type: 'DrizzleQueryError',
      message,
      code,
      ...(err.cause instanceof Error && {
        cause: code ? { type: err.cause.name, code } : { type: err.cause.name },
      }),
      stack: ['DrizzleQueryError: ' + message, ...frames].join('\n'),
    };
  }
  const code = sqlState(err);
  if (code) {
    const message = `PostgreSQL error ${code}`;
    return { type: err.name, message, code, stack: [`${err.name}: ${message}`, ...frames].join('\n') };
  }
  return {
    type: err.name,
    message: err.message,
    stack: err.stack,
    ...(err.cause instanceof Error && depth < 3 && { cause: loggableError(err.cause, depth + 1) }),
  };
}

/** A query string can carry tokens (next-auth's callback `code` and `state`); an enrolment link's path does. */
const QUERY = /(\/[^\s?#"']*)\?[^\s#"']*/g;
const ENROL_TOKEN = /(\/enroll\/)[^/?#\s"']+/g;

/** Text about a URL as it may be logged: no query string, no enrolment token. */
export function loggableUrlText(text: string): string {
  return text.replace(QUERY, '$1').replace(ENROL_TOKEN, '$1[redacted]');
}

const ANSI = /\x1b\[[0-9;]*m/g;
/** The symbols Next prefixes its own console lines with (⨯ error, ⚠ warning, ▲ ✓ ○ start-up). */
const NEXT_PREFIX = /^\s*[⨯⚠▲✓○»]\s*/u;
type ConsoleMethod = 'log' | 'info' | 'debug' | 'trace' | 'warn' | 'error';
const CONSOLE_LEVEL: Record<ConsoleMethod, 'debug' | 'info' | 'warn' | 'error'> = {
  log: 'info',
  info: 'info',
  debug: 'debug',
  trace: 'debug',
  warn: 'warn',
  error: 'error',
};

/**
 * One console call as one pino line: the text (colours, Next's prefix symbols, query strings and
 * enrolment tokens removed) is `msg`, the first Error is `err` (shown as loggableError shows it, so a
 * failed query's parameters stay out), other values are `data` (secret fields redacted). A call whose
 * only argument is already one of the portal's JSON lines (middleware.ts writes them by hand, as pino does
 * not run in the edge runtime) keeps its fields.
 */
export function consoleCall(logger: pino.Logger, method: ConsoleMethod, args: unknown[]): void {
  const level = CONSOLE_LEVEL[method];
  if (args.length === 1 && typeof args[0] === 'string' && args[0].startsWith('{')) {
    try {
      const {
        time: _time,
        level: lineLevel,
        msg,
        ...fields
      } = JSON.parse(args[0]) as Record<string, unknown>;
      if (typeof msg === 'string') {
        const at = typeof lineLevel === 'string' && lineLevel in logger.levels.values ? lineLevel : level;
        logger[at as 'info']({ ...fields, source: 'console' }, msg);
        return;
      }
    } catch {
      // not JSON: an ordinary message
    }
  }
  const err = args.find((a): a is Error => a instanceof Error);
  const text: string[] = [];
  const data: unknown[] = [];
  for (const a of args) {
    if (a === err) continue;
    if (typeof a === 'string') text.push(a);
    else if (typeof a === 'number' || typeof a === 'boolean' || a == null) text.push(String(a));
    else data.push(a);
  }
  let msg = loggableUrlText(text.join(' ').replace(ANSI, '').replace(NEXT_PREFIX, '').trim());
  if (!msg) msg = err ? err.name : 'console';
  const fields: Record<string, unknown> = { source: 'console' };
  if (err) fields.err = err;
  if (data.length > 0)
    fields.data = data.map((d) =>
      typeof d === 'object' ? d : loggableUrlText(inspect(d, { depth: 2, breakLength: Infinity })),
    );
  logger[level](fields, msg);
}

/** Next logs these itself through console.error; installProcessLogging's listeners log them already. */
const NEXT_PROCESS_ERROR = /^\s*(?:\S+\s+)?(uncaughtException|unhandledRejection):/;

// On globalThis: Next may load this module once per bundle, and the console must be wrapped once.
const shared = globalThis as { __portalProcessLogging?: boolean };

/**
 * Every line the server process prints goes through pino (instrumentation.ts calls this first thing):
 * console output, Next's own included, becomes JSON lines (consoleCall), and an uncaught exception or an
 * unhandled rejection is one `fatal`/`error` line with the error as loggableError shows it. Next keeps its
 * own listeners (it logs and carries on serving); their console lines are dropped, as the portal's
 * listeners write the line. What Next prints before register() runs (its start-up banner) stays plain.
 */
export function installProcessLogging(logger: pino.Logger = log): void {
  if (shared.__portalProcessLogging) return;
  shared.__portalProcessLogging = true;
  for (const method of Object.keys(CONSOLE_LEVEL) as ConsoleMethod[]) {
    console[method] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && NEXT_PROCESS_ERROR.test(args[0].replace(ANSI, ''))) return;
      if (
        typeof args[0] === 'string' &&
        typeof args[1] === 'string' &&
        NEXT_PROCESS_ERROR.test(args[1].replace(ANSI, ''))
      )
        return;
      consoleCall(logger, method, args);
    };
  }
  process.on('uncaughtException', (err) => logger.fatal({ err }, 'uncaught exception'));
  process.on('unhandledRejection', (reason) =>
    logger.error(
      reason instanceof Error ? { err: reason } : { reason: loggableUrlText(inspect(reason, { depth: 2 })) },
      'unhandled rejection',
    ),
  );
}
