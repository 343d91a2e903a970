/**
 * The portal the e2e suite runs against: a fresh database every run (a new `portal_e2e` database on the
 * server named by DATABASE_URL, or a new embedded one under .e2e/), then `npm start`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import postgres from 'postgres';

const env: NodeJS.ProcessEnv = { ...process.env, PORT: process.env.E2E_PORT ?? '3100', PORTAL_ENV: 'local' };

if (process.env.DATABASE_URL) {
  const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe('drop database if exists portal_e2e with (force)');
  await admin.unsafe('create database portal_e2e');
  await admin.end();
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = '/portal_e2e';
  env.DATABASE_URL = url.toString();
} else {
  fs.rmSync('.e2e/data', { recursive: true, force: true });
  env.DATA_DIR = '.e2e/data';
}

const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 1));
