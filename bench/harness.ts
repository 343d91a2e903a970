/**
 * What every `npm run bench:*` shares: progress lines on stderr, and a throwaway database on the
 * DATABASE_URL server (created, migrated, dropped at the end, on failure and on Ctrl-C), then the last
 * stdout line `RESULT {json}`. BENCH_KEEP_DATABASE=1 keeps it after a run that ends normally, to look at
 * query plans on the same data.
 */
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { type Database, type Db, migrateDatabase, openDatabase } from '@/db/client';
import { config } from '@/lib/config';

const started = performance.now();

export function log(line: string): void {
  console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
}

export async function runBench<R>(
  script: string,
  opts: { pool: number },
  bench: (db: Db, databaseUrl: string) => Promise<R>,
  ok: (result: R) => boolean = () => true,
): Promise<never> {
  const serverUrl = config().DATABASE_URL;
  if (!serverUrl) {
    console.error(
      `${script} needs DATABASE_URL (a real PostgreSQL server, where it creates and drops its own database).`,
    );
    process.exit(2);
  }
  const name = `portal_bench_${crypto.randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  let database: Database | undefined;
  let cleanedUp: Promise<void> | undefined;
  const cleanUp = (keep = false) => {
    cleanedUp ??= (async () => {
      await database?.close().catch(() => {});
      if (keep) log(`kept database ${name}`);
      else {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        log(`dropped database ${name}`);
      }
      await admin.end();
    })();
    return cleanedUp;
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: stopping`);
      void cleanUp().finally(() => process.exit(130));
    });
  }

  let result: R;
  try {
    await admin.unsafe(`create database ${name}`);
    log(`created database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    database = await openDatabase({ url: url.toString(), max: opts.pool });
    await migrateDatabase(database);
    result = await bench(database.db, url.toString());
  } catch (err) {
    // Closing the pool on a signal fails whatever query was running; that is not worth printing.
    if (!interrupted) console.error(err);
    await cleanUp();
    process.exit(interrupted ? 130 : 1);
  }
  await cleanUp(process.env.BENCH_KEEP_DATABASE === '1');
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(ok(result) ? 0 : 1);
}

/**
 * Whole-number flags, `--name N`, each with its default and minimum. A bad or unknown flag prints the
 * problem and `usage`, and exits 2.
 */
export function parseCounts<K extends string>(
  argv: string[],
  spec: Record<K, { fallback: number; min: number }>,
  usage: string,
): Record<K, number> {
  try {
    const names = Object.keys(spec) as K[];
    const { values } = parseArgs({
      args: argv,
      options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
    return Object.fromEntries(
      names.map((name) => {
        const v = values[name] as string | undefined;
        const { fallback, min } = spec[name];
        if (v === undefined) return [name, fallback];
        if (!/^[0-9]{1,9}$/.test(v) || Number(v) < min)
          throw new Error(`--${name} takes a whole number >= ${min}`);
        return [name, Number(v)];
      }),
    ) as Record<K, number>;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}
