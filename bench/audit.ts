/**
 * `npm run bench:audit [-- --seconds N --verify-entries N]`: the cost of the audit chain on a real Postgres.
 *
 * 1. Append: 32 writers, each updating its own organisation, without the audit entry and then with
 *    withAudit, in three alternating rounds of N seconds; reports the median rates and the median ratio.
 * 2. Verify: tops the chain up to N entries (default 1,000,000) and times verifyChain over all of it.
 *
 * Runs in a fresh database `portal_bench_<random>` on the DATABASE_URL server, dropped at the end.
 * Progress goes to stderr; the last line on stdout is `RESULT {json}`.
 */
import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { organizations } from '@/db/schema';
import { appendFakeAudit } from '@/db/seed';
import { type AuditCtx, type HmacKeyRing, verifyChain, withAudit } from '@/lib/audit';
import { log, median, parseCounts, runBench } from './harness';

const WRITERS = 32;
const WARM_UP_MS = 1000;
const ROUNDS = 3;
const USAGE = 'usage: npm run bench:audit [-- [--seconds N] [--verify-entries N]]';

/** What each writer does in both phases: read the row for the diff, then update it. */
async function updateOrg(tx: Tx, orgId: string, n: number) {
  const columns = { name: organizations.name, version: organizations.version };
  const [before] = await tx.select(columns).from(organizations).where(eq(organizations.id, orgId));
  const [after] = await tx
    .update(organizations)
    .set({ name: `Bench Writer update ${n}`, version: sql`${organizations.version} + 1` })
    .where(eq(organizations.id, orgId))
    .returning(columns);
  return { before, after };
}

/** Runs `op` in every writer for the warm-up plus `seconds`; counts what completes after the warm-up. */
async function phase(seconds: number, op: (writer: number, n: number) => Promise<void>): Promise<number> {
  const from = performance.now() + WARM_UP_MS;
  const to = from + seconds * 1000;
  let completed = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      for (let n = 0; performance.now() < to; n++) {
        await op(writer, n);
        const t = performance.now();
        if (t >= from && t < to) completed++;
      }
    }),
  );
  return completed / seconds;
}

async function bench(db: Db, seconds: number, verifyEntries: number) {
  // A key ring of its own: the benchmark never reads or generates the portal's secrets.
  const keys: HmacKeyRing = { activeId: 'bench', keys: new Map([['bench', crypto.randomBytes(32)]]) };
  const orgIds = (
    await db
      .insert(organizations)
      .values(
        Array.from({ length: WRITERS }, (_, i) => ({
          slug: `bench-writer-${i + 1}`,
          name: `Bench Writer ${i + 1}`,
          planTier: 'team_saas' as const,
        })),
      )
      .returning({ id: organizations.id })
  ).map((o) => o.id);
  const orgOf = (writer: number) => orgIds[writer]!;
  const ctxs: AuditCtx[] = orgIds.map((_, i) => ({
    db,
    actor: {
      staffId: crypto.randomUUID(),
      email: `staff-${String(i + 1).padStart(2, '0')}@arbitex.ai`,
      actingOrgId: null,
      actingContextId: null,
    },
    requestId: null,
    ip: '10.0.0.1',
    userAgent: 'bench:audit',
  }));

  // Alternating rounds, so that a change in the machine's load falls on both sides; medians are reported.
  const unauditedRates: number[] = [];
  const auditedRates: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const unaudited = await phase(seconds, async (w, n) => {
      await db.transaction(async (tx) => {
        await updateOrg(tx, orgOf(w), n);
      });
    });
    const audited = await phase(seconds, (w, n) =>
      withAudit(
        { ...ctxs[w]!, requestId: crypto.randomUUID() },
        { action: 'org.updated', orgId: orgOf(w), targetType: 'organization', targetId: orgOf(w) },
        async (tx, audit) => {
          const { before, after } = await updateOrg(tx, orgOf(w), n);
          audit.diff(before, after);
        },
        keys,
      ),
    );
    unauditedRates.push(unaudited);
    auditedRates.push(audited);
    log(
      `round ${round}/${ROUNDS}, ${WRITERS} writers, ${seconds} s each: unaudited ${unaudited.toFixed(0)}/s, audited ${audited.toFixed(0)}/s (ratio ${(audited / unaudited).toFixed(3)})`,
    );
    await db.execute(sql`vacuum analyze organizations`);
  }
  const unaudited = median(unauditedRates);
  const audited = median(auditedRates);
  const ratios = auditedRates.map((a, i) => a / unauditedRates[i]!);

  const [count] = await rows<{ n: string }>(db, sql`select count(*)::text as n from audit_log`);
  const missing = verifyEntries - Number(count?.n ?? 0);
  if (missing > 0) {
    log(`topping the chain up by ${missing} entries to ${verifyEntries}`);
    await appendFakeAudit(db, missing, { orgIds, keys, log });
  }
  await db.execute(sql`vacuum analyze audit_log`);

  log('verifying the whole chain');
  let reported = 0;
  const t0 = performance.now();
  const verified = await verifyChain(db, {
    keys,
    onProgress: (checked) => {
      if (checked - reported >= 100_000) {
        reported = checked;
        log(`verified ${checked}`);
      }
    },
  });
  const verifySeconds = (performance.now() - t0) / 1000;
  log(verified.ok ? `chain ok: ${verified.checked} entries` : `chain BROKEN: ${JSON.stringify(verified)}`);

  return {
    append_audited_per_s: Math.round(audited),
    append_unaudited_per_s: Math.round(unaudited),
    ratio: Number(median(ratios).toFixed(3)),
    verify_entries: verified.checked,
    verify_seconds: Number(verifySeconds.toFixed(2)),
    verify_per_s: Math.round(verified.checked / verifySeconds),
    chain_ok: verified.ok,
  };
}

const counts = parseCounts(
  process.argv.slice(2),
  { seconds: { fallback: 5, min: 1 }, 'verify-entries': { fallback: 1_000_000, min: 0 } },
  USAGE,
);
const flags = { seconds: counts.seconds, verifyEntries: counts['verify-entries'] };
await runBench(
  'bench:audit',
  { pool: WRITERS + 2 },
  (db) => bench(db, flags.seconds, flags.verifyEntries),
  (r) => r.chain_ok,
);
