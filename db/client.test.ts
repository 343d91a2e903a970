import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseInUseError, databaseUnavailable, openDatabase, rows } from './client';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-pglite-'));
  dirs.push(dir);
  return dir;
}

describe('the embedded database lock', () => {
  it('refuses a second opener while the holder lives, and takes over once it is gone', async () => {
    const dir = tempDir();
    // Another process holds the lock, as the running portal would.
    const holder = spawn('sleep', ['30']);
    fs.writeFileSync(path.join(dir, 'portal.pid'), String(holder.pid));
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(DatabaseInUseError);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(
      new RegExp(`in use by process ${holder.pid}.*stop that process first, or use DATABASE_URL`),
    );

    holder.kill();
    await new Promise((resolve) => holder.once('exit', resolve));
    const database = await openDatabase({ dataDir: dir });
    try {
      expect(fs.readFileSync(path.join(dir, 'portal.pid'), 'utf8')).toBe(String(process.pid));
      const [row] = await rows<{ one: number }>(database.db, sql`select 1 as one`);
      expect(row?.one).toBe(1);
      // Even this process may not open it twice.
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(DatabaseInUseError);
    } finally {
      await database.close();
    }
    expect(fs.existsSync(path.join(dir, 'portal.pid'))).toBe(false);
  });
});

describe('a database that is unavailable', () => {
  it('is told from a wrong query, whether refused or silent, within the connect timeout, however often it was refused', async () => {
    // A server that accepts the connection and never answers, as a database host mid-failover does.
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `postgres://p:p@127.0.0.1:${(server.address() as net.AddressInfo).port}/p`;
    const hanging = await openDatabase({ url, connectTimeoutS: 1 });
    const started = performance.now();
    const err: unknown = await hanging.db.execute(sql`select 1`).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(databaseUnavailable(err)).toBe(true);
    await hanging.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));

    // Refused again and again on one connection: each answer still comes at once, not after a backoff
    // that has grown (postgres.js's own waits 10-20 s from the eighth failure on).
    const refused = await openDatabase({ url, connectTimeoutS: 1, max: 1 });
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      expect(databaseUnavailable(await refused.db.execute(sql`select 1`).catch((e: unknown) => e))).toBe(
        true,
      );
      expect(performance.now() - started).toBeLessThan(1500);
    }
    await refused.close();

    const database = await openDatabase({ dataDir: 'memory://' });
    const wrong: unknown = await database.db
      .execute(sql`select * from no_such_table`)
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Error);
    expect(databaseUnavailable(wrong)).toBe(false);
    await database.close();
  });
});
