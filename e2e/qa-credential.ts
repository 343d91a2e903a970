/**
 * `npm run e2e:qa-credential -- <invite-url> [--out PATH] [--name NAME] [--force]`
 *
 * Enrols a QA auditor on a portal (a deployed one, or the local e2e portal) with Chromium's virtual
 * authenticator, and saves the credential, private key included, so that the e2e suite can sign in as that
 * auditor later (E2E_QA_CREDENTIAL). The file is written with mode 0600 and never inside a git working
 * tree unless git ignores it. Only an `auditor` invitation is accepted: the file is a key to the portal.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { attachAuthenticator, portalCredentialId } from './authenticator';
import { CHROMIUM_ARGS, chromiumExecutable } from './browser';
import { writeCredentialFile } from './credential-file';

const USAGE =
  'usage: npm run e2e:qa-credential -- <invite-url> [--out PATH] [--name "QA automation"] [--force]';
const DEFAULT_OUT = path.join(os.homedir(), '.arbitex-qa-credential.json');

class Refusal extends Error {}

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) throw new Refusal(USAGE);
  let invite: URL;
  try {
    invite = new URL(positionals[0]!);
  } catch {
    throw new Refusal(`Not a URL: ${positionals[0]}\n${USAGE}`);
  }
  if (!/^\/enroll\/[A-Za-z0-9_-]+$/.test(invite.pathname)) {
    throw new Refusal(`Not an enrolment link (…/enroll/<token>): ${invite.href}`);
  }
  return {
    invite,
    out: path.resolve(values.out ?? DEFAULT_OUT),
    name: values.name ?? 'QA automation',
    force: values.force,
  };
}

/** The file holds a private key: refuse a path that git could pick up. */
function checkOutsideGit(file: string) {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) throw new Refusal(`The folder ${dir} does not exist.`);
  const inTree = spawnSync('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8' });
  if (inTree.status !== 0 || inTree.stdout.trim() !== 'true') return;
  const ignored = spawnSync('git', ['-C', dir, 'check-ignore', '-q', file]);
  if (ignored.status !== 0) {
    throw new Refusal(
      `${file} is inside a git working tree and not ignored by git. Save the credential outside git (the default is ${DEFAULT_OUT}).`,
    );
  }
}

async function main() {
  const args = parse();
  checkOutsideGit(args.out);
  if (fs.existsSync(args.out) && !args.force) {
    throw new Refusal(`${args.out} already exists. Use --out for another file, or --force to replace it.`);
  }
  const executablePath = chromiumExecutable();
  if (!executablePath)
    throw new Refusal('No Chromium: apt-get install chromium, or npx playwright install chromium.');

  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const authenticator = await attachAuthenticator(await page.context().newCDPSession(page));
    console.log(`Opening ${args.invite.origin}${args.invite.pathname.replace(/[^/]+$/, '…')}`);
    const response = await page.goto(args.invite.href);
    if (!response?.ok())
      throw new Refusal(`The portal answered ${response?.status()} for the enrolment link.`);
    const main = page.getByRole('main');
    const refused = main.getByRole('alert');
    if (await refused.isVisible())
      throw new Refusal(`The portal refused the link: ${await refused.textContent()}`);
    // "You were invited as <role> with <email>."
    const [role, email] = await main.locator('p strong').allTextContents();
    if (!role || !email) throw new Refusal('This page does not look like the portal’s enrolment page.');
    if (role !== 'auditor') {
      throw new Refusal(
        `This invitation is for the role ${role}. A QA credential must be an auditor's: ask for an auditor invitation. Nothing was enrolled.`,
      );
    }

    await page.getByLabel('Your name').fill(args.name);
    await page
      .getByLabel('Name for this key')
      .fill(`QA virtual authenticator (${os.hostname()})`.slice(0, 60));
    await page.getByRole('button', { name: 'Register security key' }).click();
    const done = page.getByText('Your security key is registered');
    await done.or(refused).waitFor({ timeout: 30_000 });
    if (!(await done.isVisible())) throw new Refusal(`Enrolment refused: ${await refused.textContent()}`);

    const [credential, ...more] = await authenticator.credentials();
    if (!credential || more.length > 0)
      throw new Error('Expected exactly one credential on the virtual key.');
    writeCredentialFile(
      args.out,
      {
        version: 1,
        portal: args.invite.origin,
        email,
        role,
        savedAt: new Date().toISOString(),
        credential,
      },
      { overwrite: args.force },
    );
    console.log(`Enrolled ${email} as ${role} at ${args.invite.origin} with a virtual security key.`);
    console.log(
      `Credential ${portalCredentialId(credential)} (RP ID ${credential.rpId}), with its private key,`,
    );
    console.log(`saved to ${args.out} (mode 0600). Anyone with this file can sign in as ${email}.`);
    console.log(
      `Run the QA specs with:  E2E_BASE_URL=${args.invite.origin} E2E_QA_CREDENTIAL=${args.out} npx playwright test`,
    );
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Refusal ? err.message : err);
  process.exit(1);
});
