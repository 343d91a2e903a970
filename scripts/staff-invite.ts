/**
 * `npm run staff:invite -- --email a@b --role superadmin`: prints a one-time enrolment link. This is how
 * the first superadmin gets in; after that, superadmins invite from /staff.
 */
import { parseArgs } from 'node:util';
import { DatabaseInUseError, migrateDatabase, openDatabase, pgliteDir } from '@/db/client';
import { config } from '@/lib/config';
import { AppError } from '@/lib/errors';
import { createInvite } from '@/lib/services/staff/invites';
import { systemCtx } from '@/lib/services/staff/system';

const USAGE =
  'usage: npm run staff:invite -- --email someone@arbitex.ai --role superadmin|admin|support|billing|auditor';

let values: { email?: string; role?: string };
try {
  ({ values } = parseArgs({
    options: { email: { type: 'string' }, role: { type: 'string' } },
    strict: true,
  }));
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}

const c = config();
let database;
try {
  database = await openDatabase(c.DATABASE_URL ? { url: c.DATABASE_URL, max: 1 } : { dataDir: pgliteDir() });
} catch (err) {
  console.error(err instanceof DatabaseInUseError ? err.message : err);
  process.exit(1);
}
try {
  // Production migrates in its own job, as the role that owns the tables; the portal's role may not.
  if (c.PORTAL_ENV !== 'production') await migrateDatabase(database);
  const invite = await createInvite(systemCtx(database.db, 'staff:invite'), values, null);
  console.log(
    `One-time enrolment link for ${invite.email} (${invite.role}), valid until ${invite.expiresAt.toISOString()}:`,
  );
  console.log(invite.url);
} catch (err) {
  console.error(err instanceof AppError ? `${err.message}\n${USAGE}` : err);
  process.exitCode = 1;
} finally {
  await database.close();
}
