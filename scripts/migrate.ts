/** `npm run db:migrate`: applies the committed Drizzle migrations to DATABASE_URL, or to the embedded database. */
import { migrateDatabase, openDatabase, pgliteDir } from '@/db/client';
import { config } from '@/lib/config';

const c = config();
const database = await openDatabase(
  c.DATABASE_URL ? { url: c.DATABASE_URL, max: 1 } : { dataDir: pgliteDir() },
);
try {
  await migrateDatabase(database);
  console.log(`Migrated ${database.kind === 'pglite' ? pgliteDir() : 'the database at DATABASE_URL'}.`);
} finally {
  await database.close();
}
