/**
 * `npm run siem:deliver [-- --once]`: SIEM delivery from the command line, with the portal's configuration
 * (SPLUNK_HEC_URL, the splunk-hec-token secret, SIEM_*). With --once it delivers everything pending and
 * exits: 0 when caught up, 1 when Splunk refused or kept failing, 3 when another replica holds the lease.
 * Without it, it delivers continuously until Ctrl-C, as the portal does in the background.
 */
import { parseArgs } from 'node:util';
import { DatabaseInUseError, openDatabase, pgliteDir } from '@/db/client';
import { config } from '@/lib/config';
import { readSiemStatus } from '@/lib/queries/siem';
import { SplunkSink, sinkSettings } from '@/lib/siem/splunk';

const USAGE = 'usage: npm run siem:deliver [-- --once]';
let once = false;
try {
  once =
    parseArgs({ args: process.argv.slice(2), options: { once: { type: 'boolean' } }, strict: true }).values
      .once === true;
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}

let settings;
try {
  settings = sinkSettings();
} catch (err) {
  console.error((err as Error).message); // a missing token: names the secret, never a value
  process.exit(2);
}
if (!settings) {
  console.error('SPLUNK_HEC_URL is not set: there is nowhere to deliver to.');
  process.exit(2);
}
const c = config();
let database;
try {
  database = await openDatabase(c.DATABASE_URL ? { url: c.DATABASE_URL, max: 2 } : { dataDir: pgliteDir() });
} catch (err) {
  if (!(err instanceof DatabaseInUseError)) throw err;
  console.error(`${err.message}\nThe running portal delivers in the background already.`);
  process.exit(1);
}
const progress = {
  info: (obj: object, msg: string) => console.error(`${msg} ${JSON.stringify(obj)}`),
  warn: (obj: object, msg: string) => console.error(`${msg} ${JSON.stringify(obj)}`),
};
const sink = new SplunkSink(database.db, settings, { log: progress });
let code = 0;
if (once) {
  const { delivered, outcome } = await sink.drain();
  await sink.stop();
  const status = await readSiemStatus(database.db);
  console.log(
    `delivered ${delivered} entries; cursor at ${status.deliveredSeq} of ${status.headSeq}` +
      (outcome.kind === 'failed' ? `; stopped: ${outcome.error}` : '') +
      (outcome.kind === 'standby'
        ? `; another deliverer holds the lease (${outcome.owner ?? 'unknown'})`
        : ''),
  );
  code = outcome.kind === 'idle' ? 0 : outcome.kind === 'standby' ? 3 : 1;
} else {
  console.error(`delivering to ${new URL(settings.url).origin} as ${sink.owner}; Ctrl-C stops`);
  sink.start();
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await sink.stop();
}
await database.close();
process.exit(code);
