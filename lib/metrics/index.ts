import { sql } from 'drizzle-orm';
import { type Database, rows } from '@/db/client';
import { configuredWitnesses } from '@/lib/audit/witnesses';
import { config } from '@/lib/config';
import { log } from '@/lib/log';
import { renderHttpHistogram } from '@/lib/metrics/http';
import { readSiemStatus } from '@/lib/queries/siem';

/** How long a scrape waits for the database before it answers without the database's figures. */
const DATABASE_TIMEOUT_MS = 3000;

/** The audit figures read from the database: the same on every replica. */
export interface AuditFigures {
  inboxRows: number;
  /** Seconds since the oldest inbox row was written; 0 when the inbox is empty. */
  inboxOldestAgeS: number;
  /** Seconds since the newest checkpoint was signed; null when there is none yet. */
  checkpointAgeS: number | null;
  /** Null when SIEM delivery is off (SPLUNK_HEC_URL unset). */
  siem: { lagEntries: number; lagS: number } | null;
  /** Per configured witness (AUDIT_WITNESS_URLS), by name. */
  witnesses: {
    name: string;
    /** Seconds since the newest checkpoint it cosigned was sent to it; Infinity when it never cosigned one. */
    cosignedAgeS: number;
    /** Its answers that showed another history than the database holds (alarm in audit_checkpoint_cosignatures). */
    alarms: number;
  }[];
}

/** The audit inbox, the newest checkpoint and the SIEM cursor, with ages on the database's clock. */
export async function readAuditFigures(database: Pick<Database, 'db'>): Promise<AuditFigures> {
  const [row] = await rows<{
    inbox_rows: string;
    inbox_oldest_age_s: number | null;
    checkpoint_age_s: number | null;
    now: string;
  }>(
    database.db,
    sql`select (select count(*) from audit_inbox)::text as inbox_rows,
               (select extract(epoch from now() - min(created_at)) from audit_inbox)::float8 as inbox_oldest_age_s,
               (select extract(epoch from now() - max(signed_at)) from audit_checkpoints)::float8 as checkpoint_age_s,
               now()::text as now`,
  );
  let siem: AuditFigures['siem'] = null;
  if (config().SPLUNK_HEC_URL) {
    const status = await readSiemStatus(database.db);
    const oldest = status.oldestPendingAt ? Date.parse(status.oldestPendingAt) : null;
    siem = {
      lagEntries: status.lagEntries,
      lagS: oldest === null ? 0 : Math.max(0, (Date.parse(row!.now) - oldest) / 1000),
    };
  }
  const witnesses: AuditFigures['witnesses'] = [];
  const configured = configuredWitnesses();
  if (configured.length > 0) {
    const answers = await rows<{ witness_key: string; cosigned_age_s: number | null; alarms: string }>(
      database.db,
      sql`select witness_key,
                 extract(epoch from now() - max(requested_at) filter (where outcome = 'cosigned'))::float8
                   as cosigned_age_s,
                 (count(*) filter (where alarm))::text as alarms
          from audit_checkpoint_cosignatures group by witness_key`,
    );
    for (const w of configured) {
      const a = answers.find((r) => r.witness_key === w.vkey);
      witnesses.push({
        name: w.name,
        cosignedAgeS: a?.cosigned_age_s == null ? Infinity : Math.max(0, Number(a.cosigned_age_s)),
        alarms: Number(a?.alarms ?? 0),
      });
    }
  }
  return {
    inboxRows: Number(row?.inbox_rows ?? 0),
    inboxOldestAgeS: Math.max(0, Number(row?.inbox_oldest_age_s ?? 0)),
    checkpointAgeS: row?.checkpoint_age_s == null ? null : Math.max(0, Number(row.checkpoint_age_s)),
    siem,
    witnesses,
  };
}

type Sample = [labels: string, value: number];

function gauge(name: string, help: string, samples: Sample[] | number, type = 'gauge'): string[] {
  const list: Sample[] = typeof samples === 'number' ? [['', samples]] : samples;
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...list.map(([labels, value]) => `${name}${labels ? `{${labels}}` : ''} ${formatValue(value)}`),
  ];
}

/** A label value in the text format: backslash, double quote and newline escaped. */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(Math.round(v * 1000) / 1000);
}

/**
 * Everything /metrics answers, in the Prometheus text format (version 0.0.4): this process's request
 * durations, its database pool, and the audit figures read from the database. When the database does not
 * answer within DATABASE_TIMEOUT_MS, `portal_metrics_database_up` is 0 and the audit figures are left out,
 * so that a scrape never hangs and stale values are never shown.
 */
export async function renderMetrics(database: Promise<Database> | Database): Promise<string> {
  const lines: string[] = [...renderHttpHistogram()];
  let figures: AuditFigures | null = null;
  let pool: { max: number; inUse: number; waiting: number; saturatedS: number } | undefined;
  try {
    const db = await database;
    // Taken before the scrape's own query, which would wait for a connection when all are taken.
    if (db.pool)
      pool = {
        max: db.pool.max,
        inUse: db.pool.inUse,
        waiting: db.pool.waiting,
        saturatedS: db.pool.saturatedSeconds(),
      };
    figures = await withTimeout(readAuditFigures(db), DATABASE_TIMEOUT_MS);
  } catch (err) {
    log.warn({ err }, 'metrics: the database figures could not be read');
  }
  if (pool) {
    lines.push(
      ...gauge('portal_db_pool_max', 'Connections the PostgreSQL pool (postgres.js) may open.', pool.max),
      ...gauge(
        'portal_db_pool_in_use',
        'Pool connections taken by a statement or transaction (counted around the driver: postgres.js has no pool statistics).',
        pool.inUse,
      ),
      ...gauge(
        'portal_db_pool_waiting',
        'Statements and transactions waiting for a pool connection, all of them taken.',
        pool.waiting,
      ),
      ...gauge(
        'portal_db_pool_saturated_seconds_total',
        'Seconds during which every pool connection was taken.',
        pool.saturatedS,
        'counter',
      ),
    );
  }
  lines.push(
    ...gauge(
      'portal_metrics_database_up',
      'Whether this scrape read the audit figures from the database (1) or not (0: they are left out).',
      figures ? 1 : 0,
    ),
  );
  if (figures) {
    lines.push(
      ...gauge(
        'portal_audit_inbox_rows',
        'Audited writes committed but not yet on the audit chain (audit_inbox).',
        figures.inboxRows,
      ),
      ...gauge(
        'portal_audit_inbox_oldest_age_seconds',
        'Age of the oldest audit_inbox row; 0 when the inbox is empty.',
        figures.inboxOldestAgeS,
      ),
    );
    if (figures.checkpointAgeS !== null)
      lines.push(
        ...gauge(
          'portal_audit_checkpoint_age_seconds',
          'Age of the newest signed audit checkpoint (absent before the first).',
          figures.checkpointAgeS,
        ),
      );
    if (figures.siem)
      lines.push(
        ...gauge(
          'portal_siem_lag_entries',
          'Audit entries not yet accepted by the SIEM (chain head minus the delivered seq).',
          figures.siem.lagEntries,
        ),
        ...gauge(
          'portal_siem_lag_seconds',
          'Age of the oldest audit entry not yet accepted by the SIEM; 0 when all are delivered.',
          figures.siem.lagS,
        ),
      );
  }
  if (figures && figures.witnesses.length > 0) {
    const by = (w: { name: string }) => `witness="${labelValue(w.name)}"`;
    lines.push(
      ...gauge(
        'portal_audit_witness_cosigned_age_seconds',
        'Seconds since the newest checkpoint this witness cosigned was sent to it; +Inf when it never cosigned one.',
        figures.witnesses.map((w) => [by(w), w.cosignedAgeS]),
      ),
      ...gauge(
        'portal_audit_witness_alarms_total',
        'Answers of this witness showing it cosigned another history than the database holds (a rollback or fork).',
        figures.witnesses.map((w) => [by(w), w.alarms]),
        'counter',
      ),
    );
  }
  const memory = process.memoryUsage();
  lines.push(
    ...gauge('process_resident_memory_bytes', 'Resident memory of the process.', memory.rss),
    ...gauge('nodejs_heap_used_bytes', 'V8 heap in use.', memory.heapUsed),
    ...gauge(
      'process_start_time_seconds',
      'When the process started, in seconds since the epoch.',
      Math.round(Date.now() / 1000 - process.uptime()),
    ),
  );
  return lines.join('\n') + '\n';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
