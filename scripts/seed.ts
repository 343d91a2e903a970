/**
 * `npm run db:seed [-- --orgs N --audit N]`: migrates, then seeds the demo organisations (idempotent).
 * With flags it also adds N bench organisations and appends N audit entries (large mode).
 */
import { DatabaseInUseError, migrateDatabase, openDatabase, pgliteDir } from '@/db/client';
import { parseSeedArgs, SEED_USAGE, seedBench, seedDemo, UsageError } from '@/db/seed';
import { config } from '@/lib/config';

let flags: { orgs: number; audit: number };
try {
  flags = parseSeedArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`${err.message}\n${SEED_USAGE}`);
  process.exit(2);
}

const c = config();
let database;
try {
  database = await openDatabase(c.DATABASE_URL ? { url: c.DATABASE_URL, max: 2 } : { dataDir: pgliteDir() });
} catch (err) {
  if (!(err instanceof DatabaseInUseError)) throw err;
  console.error(err.message);
  process.exit(1);
}
try {
  await migrateDatabase(database);
  const started = Date.now();
  const progress = (line: string) =>
    console.error(`  ${line} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  await seedDemo(database.db, { log: console.log });
  if (flags.orgs > 0 || flags.audit > 0) {
    await seedBench(database.db, { ...flags, log: progress });
    console.log(`added ${flags.orgs} bench organisations and ${flags.audit} audit entries`);
  }
} finally {
  await database.close();
}
