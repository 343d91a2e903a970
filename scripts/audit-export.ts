/**
 * `npm run audit:export -- --out FILE [--from N] [--to N]`: the contiguous OCSF NDJSON export of the audit
 * chain (the format /api/audit/export streams, lib/audit/export-format.ts), read straight from DATABASE_URL
 * (or the embedded database), so that a restore can be checked with the portal scaled to zero:
 *   npm run audit:verify -- --file FILE --keys hmac-keys.json --checkpoint-pubkey checkpoints-kept.json
 * It only reads: unlike an export from the portal, it writes no audit entry (whoever runs it holds the
 * database's credentials, and could read the table anyway). Without --to it runs to the chain's head.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { DatabaseInUseError, openDatabase, pgliteDir } from '@/db/client';
import { exportBatches, planExport } from '@/lib/audit/export';
import { config } from '@/lib/config';

const USAGE = 'usage: npm run audit:export -- --out FILE [--from N] [--to N]';

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

let values: { out?: string; from?: string; to?: string };
try {
  ({ values } = parseArgs({
    options: { out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
    strict: true,
  }));
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
const seq = (flag: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v) || Number(v) < 1) fail(`--${flag} takes a whole number >= 1\n${USAGE}`);
  return Number(v);
};
const fromSeq = seq('from', values.from);
const toSeq = seq('to', values.to);
if (!values.out) fail(`--out is required\n${USAGE}`);
if (fs.existsSync(values.out)) fail(`${values.out} exists already; nothing was written`);

const c = config();
let database;
try {
  database = await openDatabase(c.DATABASE_URL ? { url: c.DATABASE_URL, max: 2 } : { dataDir: pgliteDir() });
} catch (err) {
  if (err instanceof DatabaseInUseError) fail(err.message, 1);
  throw err;
}
const partial = `${values.out}.partial`;
try {
  const filters = Object.fromEntries(
    Object.entries({ from_seq: fromSeq, to_seq: toSeq }).filter(([, v]) => v !== undefined),
  );
  const plan = await planExport(database.db, { fromSeq, toSeq }, filters);
  const out = fs.createWriteStream(partial, { flags: 'wx' });
  for await (const chunk of exportBatches(database.db, plan)) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  // Renamed only once complete: a file at --out is always a whole export.
  fs.renameSync(partial, values.out);
  const range = plan.range ? `seq ${plan.range.from}-${plan.range.to}` : 'no entries';
  console.log(`Exported ${range} to ${values.out}.`);
} catch (err) {
  fs.rmSync(partial, { force: true });
  throw err;
} finally {
  await database.close();
}
