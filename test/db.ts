import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { expect } from 'vitest';
import { type Database, migrateDatabase, openDatabase } from '@/db/client';
import { pgError } from '@/db/errors';

/**
 * A fresh, migrated database for one test file: a new database on the server named by DATABASE_URL
 * (dropped again on close), or an in-memory PGlite when it is not set.
 */
export async function testDatabase(opts: { max?: number } = {}): Promise<Database & { url?: string }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const database = await openDatabase({ dataDir: 'memory://' });
    await migrateDatabase(database);
    return database;
  }
  const name = `portal_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), max: opts.max });
  await migrateDatabase(database);
  return {
    ...database,
    url: url.toString(),
    close: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * The same database as the application's role sees it: a login role that is a member of portal_app and owns
 * nothing, as in a deployment (docs/ARCHITECTURE.md). On PostgreSQL a connection of its own; on PGlite (one
 * connection) the session's role is switched until close.
 */
export async function asAppRole(database: Database & { url?: string }): Promise<Database> {
  if (!database.url) {
    await database.db.execute(sql`set role portal_app`);
    return { ...database, close: async () => void (await database.db.execute(sql`reset role`)) };
  }
  const role = `portal_app_test_${crypto.randomBytes(6).toString('hex')}`;
  await database.db.execute(sql.raw(`create role ${role} login password '${role}' in role portal_app`));
  const url = new URL(database.url);
  url.username = role;
  url.password = role;
  const app = await openDatabase({ url: url.toString(), max: 4 });
  return {
    ...app,
    close: async () => {
      await app.close();
      await database.db.execute(sql.raw(`drop role if exists ${role}`));
    },
  };
}

/** Expects the statement to be refused by PostgreSQL with SQLSTATE `code` (and a message matching `message`). */
export async function refused(run: Promise<unknown>, code: string, message?: RegExp) {
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the statement was accepted').not.toBeNull();
  expect(pgError(err)?.code).toBe(code);
  if (message) expect(pgError(err)?.message).toMatch(message);
}
