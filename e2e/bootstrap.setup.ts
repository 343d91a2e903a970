/**
 * The `setup` project, which runs once before every spec of the `local` project: the bootstrap link is
 * single-use, so the first superadmin enrols here, and every spec signs in with the saved key
 * (asSuperadmin in e2e/staff.ts). Then a QA auditor enrols through `npm run e2e:qa-credential`, so that
 * qa.spec.ts, which runs against deployed portals, runs against the local one too.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { writeCredentialFile } from './credential-file';
import { expect, test as setup } from './fixtures';
import { LOCAL_QA_CREDENTIAL_FILE, SUPERADMIN_CREDENTIAL_FILE } from './files';
import { asSuperadmin, bootstrapLink, enrol, invite } from './staff';

setup(
  'the first superadmin enrols through the bootstrap link, and the key is saved',
  async ({ page, authenticator, baseURL }) => {
    const enrolled = await enrol(page, bootstrapLink(), {
      displayName: 'Ada Superadmin',
      nickname: 'Primary key',
    });
    expect(enrolled).toMatchObject({ email: 'superadmin@arbitex.local', role: 'superadmin' });
    const [credential, ...more] = await authenticator.credentials();
    expect(more).toEqual([]);
    expect(credential).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
    writeCredentialFile(
      SUPERADMIN_CREDENTIAL_FILE,
      {
        version: 1,
        portal: new URL(baseURL!).origin,
        email: enrolled.email,
        role: enrolled.role,
        staffId: enrolled.staffId,
        savedAt: new Date().toISOString(),
        credential: credential!,
      },
      { overwrite: true },
    );
  },
);

setup('a QA auditor enrols with npm run e2e:qa-credential', async ({ page, authenticator, baseURL }) => {
  await asSuperadmin(page, authenticator);
  const link = await invite(page, { email: 'qa-auditor@arbitex.local', role: 'auditor' });
  fs.rmSync(LOCAL_QA_CREDENTIAL_FILE, { force: true });
  // The command as a QA engineer runs it (package.json: tsx e2e/qa-credential.ts).
  const { stdout } = await promisify(execFile)(
    'node_modules/.bin/tsx',
    ['e2e/qa-credential.ts', link, '--out', LOCAL_QA_CREDENTIAL_FILE],
    { timeout: 60_000 },
  );
  expect(stdout).toContain(`Enrolled qa-auditor@arbitex.local as auditor at ${new URL(baseURL!).origin}`);
  expect(fs.statSync(LOCAL_QA_CREDENTIAL_FILE).mode & 0o777).toBe(0o600);
});
