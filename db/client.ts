import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { type ExtractTablesWithRelations, type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { config } from '@/lib/config';
import { PoolUsage, trackPool } from '@/lib/metrics/pool';
import * as schema from './schema';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type DbKind = 'postgres' | 'pglite';

export interface Database {
  db: Db;
  kind: DbKind;
  /** postgres.js: how busy the connection pool is (lib/metrics/pool.ts). PGlite has one connection, no pool. */
  pool?: PoolUsage;
  /** LISTEN on a channel; resolves once listening, to a function that stops. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A postgres:// URL: postgres.js. Otherwise PGlite. */
  url?: string;
  /** PGlite data directory, or `memory://` for an in-memory database. */
  dataDir?: string;
  /** postgres.js pool size. */
  max?: number;
  /** postgres.js: seconds to wait for a connection (its default is 30). */
  connectTimeoutS?: number;
  /** PostgreSQL's statement_timeout for every connection of the pool (none by default). */
  statementTimeoutMs?: number;
}

export const MIGRATIONS_DIR = path.resolve(process.cwd(), 'db/migrations');

/**
 * Seconds a connection waits before connecting again after a failed attempt. postgres.js's own grows to
 * 10-20 s after seven failures in a row, which a request made during an outage would wait out before its
 * 503; this one stops at half a second to a second.
 */
function reconnectDelayS(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1);
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const max = opts.max ?? 10;
    const pool = new PoolUsage(max);
    const client = postgres(opts.url, {
      max,
      onnotice: () => {},
      backoff: reconnectDelayS,
      ...(opts.connectTimeoutS ? { connect_timeout: opts.connectTimeoutS } : {}),
      connection: {
        application_name: 'arbitex-staff-portal',
        ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
      },
    });
    const db = drizzle(trackPool(client, pool), { schema });
    Object.defineProperty(db, URL_KEY, { value: opts.url });
    return {
      db,
      kind: 'postgres',
      pool,
      listen: async (channel, onMessage) => {
        const { unlisten } = await client.listen(channel, onMessage);
        return unlisten;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dataDir = opts.dataDir ?? 'memory://';
  const release = dataDir.startsWith('memory://') ? () => {} : lockDataDir(dataDir);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const client = await PGlite.create(dataDir);
    const db = drizzle(client, { schema });
    Object.defineProperty(db, PGLITE_KEY, { value: client });
    return {
      db,
      kind: 'pglite',
      listen: (channel, onMessage) => client.listen(channel, onMessage),
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

// Kept on the handle under global symbols, not in a module's map: Next may evaluate this module once per
// bundle, and the handle that getDatabase() shares on globalThis must answer in every copy.
const URL_KEY = Symbol.for('arbitex.portal.database.url');
const PGLITE_KEY = Symbol.for('arbitex.portal.database.pglite');

/**
 * PGlite only: a function that runs a `COPY (…) TO '/dev/blob'` statement and answers its text-format
 * output, for a worker thread to parse (no other thread can open the embedded database). Null otherwise.
 */
export function pgliteCopy(db: Db): ((copy: string) => Promise<ArrayBuffer>) | null {
  const client = (db as unknown as Record<symbol, PGlite | undefined>)[PGLITE_KEY];
  if (!client) return null;
  return async (copy) => {
    const result = await client.query(copy);
    if (!result.blob) throw new Error('COPY TO /dev/blob answered no data');
    return result.blob.arrayBuffer();
  };
}

/**
 * The postgres:// URL a database handle was opened with (so that a worker thread can open connections of
 * its own to the same database); null for PGlite, which only this thread can use.
 */
export function databaseUrl(db: Db): string | null {
  return (db as unknown as Record<symbol, string | undefined>)[URL_KEY] ?? null;
}

export async function migrateDatabase(database: Database): Promise<void> {
  if (database.kind === 'postgres') {
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    await migrate(database.db as Parameters<typeof migrate>[0], { migrationsFolder: MIGRATIONS_DIR });
  } else {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    await migrate(database.db as Parameters<typeof migrate>[0], { migrationsFolder: MIGRATIONS_DIR });
  }
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function rows<T>(db: Db | Tx, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

interface ReservedConnection {
  <T extends readonly object[]>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T>;
  release(): void;
}

const sessionLocksHeld = new Set<number>();

/**
 * Runs `fn` while this process holds the session-level advisory lock `key`, or answers null at once when
 * another session (or this process) holds it. For work that must not run in a transaction, such as network
 * calls: a session lock needs its unlock on the same connection, so on postgres.js one connection of the
 * pool is reserved for the lock until `fn` settles (`fn` itself queries through `db` as usual). PGlite has a
 * single session, where advisory locks are re-entrant: the in-process set keeps two calls apart there.
 */
export async function withSessionLock<T>(
  db: Db,
  key: number,
  fn: () => Promise<T>,
): Promise<{ value: T } | null> {
  if (sessionLocksHeld.has(key)) return null;
  sessionLocksHeld.add(key);
  try {
    const client = (db as unknown as { $client?: { reserve?: () => Promise<ReservedConnection> } }).$client;
    if (typeof client?.reserve === 'function') {
      const conn = await client.reserve();
      try {
        const [lock] = await conn<Array<{ got: boolean }>>`select pg_try_advisory_lock(${key}) as got`;
        if (!lock?.got) return null;
        try {
          return { value: await fn() };
        } finally {
          await conn`select pg_advisory_unlock(${key})`;
        }
      } finally {
        conn.release();
      }
    }
    const [lock] = await rows<{ got: boolean }>(db, sql`select pg_try_advisory_lock(${key}) as got`);
    if (!lock?.got) return null;
    try {
      return { value: await fn() };
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${key})`);
    }
  } finally {
    sessionLocksHeld.delete(key);
  }
}

export class DatabaseInUseError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `The embedded database in ${dir} is in use by process ${pid} (probably the running portal). ` +
        'PGlite allows one process at a time: stop that process first, or use DATABASE_URL.',
    );
    this.name = 'DatabaseInUseError';
  }
}

/**
 * PGlite has no locking of its own, and two processes on one data directory corrupt it. A pid file taken
 * with O_EXCL makes the second opener fail with a clear message instead; a stale file is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'portal.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      const release = () => fs.rmSync(lockPath, { force: true });
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(lockPath, 'utf8'));
      if (Number.isInteger(pid) && isAlive(pid)) throw new DatabaseInUseError(dataDir, pid);
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The embedded database's directory under DATA_DIR. */
export function pgliteDir(): string {
  return path.resolve(config().DATA_DIR, 'pglite');
}

// On globalThis because Next may evaluate this module once per bundle, and one process must not open
// the embedded database twice.
const shared = globalThis as { __portalDatabase?: Promise<Database> };

/** The process-wide database of the running portal, opened on first use from lib/config. */
export function getDatabase(): Promise<Database> {
  const c = config();
  shared.__portalDatabase ??= openDatabase(
    c.DATABASE_URL
      ? {
          url: c.DATABASE_URL,
          connectTimeoutS: c.DATABASE_CONNECT_TIMEOUT_S,
          statementTimeoutMs: c.DATABASE_STATEMENT_TIMEOUT_MS,
        }
      : { dataDir: pgliteDir() },
  );
  return shared.__portalDatabase;
}

/** postgres.js's own codes for a connection it could not make or lost. */
const CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
]);

/**
 * Whether an error (or its cause: drizzle wraps the driver's) says the database is unavailable rather
 * than that the query was wrong: no connection, a server shutting down or starting (SQLSTATE class 08,
 * 57P01-57P03), or a statement cancelled by statement_timeout (57014). Such a request is answered 503.
 */
export function databaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as Error).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '57014')
      return true;
  }
  return false;
}
