/**
 * A portal for a benchmark to load over HTTP: `npm start` on the benchmark's database with the e2e
 * settings, and a staff member signed in through a real FIDO2 ceremony (Chromium's virtual authenticator,
 * as in the e2e suite). The portal has no other way in, and needs none.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { attachAuthenticator } from '@/e2e/authenticator';
import { CHROMIUM_ARGS, chromiumExecutable } from '@/e2e/browser';
import { testPortalEnv } from '@/e2e/settings';
import { ENROL_FOLLOWS, ENROL_LINE } from '@/scripts/enrol-banner';
import { log } from './harness';

export interface Portal {
  baseURL: string;
  /** The signed-in session's cookies, as a Cookie header. */
  cookie: string;
  stop(): Promise<void>;
}

function portalEnv(databaseUrl: string, port: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...testPortalEnv(port),
    ...extra,
    DATABASE_URL: databaseUrl,
    // Idle sessions last the whole run; the benchmark's requests are what it measures, not sign-ins.
    SESSION_IDLE_TIMEOUT_S: '3600',
    LOG_LEVEL: 'warn',
  };
}

/** `env`: more of the portal's environment (bench/verify-load.ts passes the secrets it seeds with). */
export async function startPortal(
  databaseUrl: string,
  port: number,
  env: Record<string, string> = {},
): Promise<Portal> {
  const baseURL = `http://localhost:${port}`;
  log(`starting the portal on ${baseURL} (npm start; it builds first if the build is stale)`);
  const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, so that stopping it stops `next start` under it too.
    detached: true,
    env: portalEnv(databaseUrl, String(port), env),
  });
  const stop = () => stopChild(child);
  try {
    const link = await enrolmentLink(child);
    await waitForHealth(baseURL, child);
    const cookie = await signIn(baseURL, link);
    return { baseURL, cookie, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Another replica of a running portal on `port`: `next start` on the same database and secrets, with the
 * same settings (PORTAL_URL stays the first replica's, as behind a load balancer). The session signed in
 * on the first replica is valid here too.
 */
export async function startReplica(databaseUrl: string, portal: Portal, port: number): Promise<Portal> {
  const baseURL = `http://localhost:${port}`;
  log(`starting another replica on ${baseURL} (next start)`);
  const child = spawn('node_modules/.bin/next', ['start', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...portalEnv(databaseUrl, new URL(portal.baseURL).port), PORT: String(port) },
  });
  const stop = () => stopChild(child);
  try {
    await waitForHealth(baseURL, child);
    return { baseURL, cookie: portal.cookie, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function enrolmentLink(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const link = ENROL_LINE.exec(out);
      if (link) resolve(link[1]!);
      // npm start says a link follows before this line, and only while the database has no staff.
      else if (/^Database: /m.test(out) && !out.includes(ENROL_FOLLOWS))
        reject(new Error('npm start printed no enrolment link: the database already has staff'));
    });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) =>
      reject(
        new Error(`the portal exited (${code}) before printing an enrolment link:\n${out}${err}`.trim()),
      ),
    );
  });
}

export async function waitForHealth(baseURL: string, child: ChildProcess): Promise<void> {
  let output = '';
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the portal exited (${child.exitCode}):\n${output}`);
    const ok = await fetch(`${baseURL}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the portal did not answer ${baseURL}/api/health within 5 minutes`);
}

/** Enrols the first superadmin through the bootstrap link and signs in, as a person would. */
async function signIn(baseURL: string, link: string): Promise<string> {
  const executablePath = chromiumExecutable();
  if (!executablePath)
    throw new Error('No Chromium: apt-get install chromium, or npx playwright install chromium.');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ baseURL });
    const page = await context.newPage();
    await attachAuthenticator(await context.newCDPSession(page));
    await page.goto(link);
    await page.getByLabel('Your name').fill('Bench Superadmin');
    await page.getByLabel('Name for this key').fill('Bench key');
    await page.getByRole('button', { name: 'Register security key' }).click();
    await page.getByText('Your security key is registered').waitFor({ timeout: 60_000 });
    await page.goto('/login');
    await page.getByRole('button', { name: 'Sign in with security key' }).click();
    await page.waitForURL((url) => url.pathname !== '/login', { timeout: 60_000 });
    const cookies = await context.cookies();
    if (!cookies.some((c) => c.name.endsWith('portal.session')))
      throw new Error('signed in, but no session cookie');
    log('signed in with a virtual security key');
    return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  } finally {
    await browser.close();
  }
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(-child.pid!, 'SIGTERM');
  });
}
