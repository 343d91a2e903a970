import { sql } from 'drizzle-orm';
import { getDatabase } from '@/db/client';
import { log } from '@/lib/log';

export type Health = { status: 'ok'; db: 'pglite' | 'postgres' } | { status: 'error'; db: 'unreachable' };

export async function checkHealth(): Promise<Health> {
  try {
    const database = await getDatabase();
    await database.db.execute(sql`select 1`);
    return { status: 'ok', db: database.kind };
  } catch (err) {
    log.error({ err }, 'health check: database unreachable');
    return { status: 'error', db: 'unreachable' };
  }
}
