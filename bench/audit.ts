/**
 * `npm run bench:audit [-- --seconds N --verify-entries N]`: the cost of the audit chain on a real Postgres.
 *
 * 1. Append: 32 writers, each updating its own organisation, without the audit entry and then with
 *    withAudit, in three alternating rounds of N seconds; reports the median rates and the median ratio.
 * 2. Verify: tops the chain up to N entries (default 1,000,000), then, R times (default 3) in turn:
 *    verifyChainParallel over all of it (worker threads reading chunks with COPY), and `hmac_only`, a
 *    pure in-process HMAC loop over the same entries (read and parsed beforehand, untimed, on one
 *    thread). Reports the medians and the median of the R ratios verify/hmac_only.
 *
 * 3. The Merkle tree: the top-up of step 2 is appended without the tree, as a chain older than the tree
 *    is, and `catchUpTree` then builds it (timed); the tiles' count and size, the root checked against a tree
 *    recomputed in memory from the entries (during `hmac_only`'s read), and the inclusion and consistency
 *    proofs' sizes and times at the full size.
 *
 * Runs in a fresh database `portal_bench_<random>` on the DATABASE_URL server, dropped at the end.
 * Progress goes to stderr; the last line on stdout is `RESULT {json}`.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { eq, sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { organizations } from '@/db/schema';
import { appendFakeAudit } from '@/db/seed';
import { type AuditCtx, type HmacKeyRing, withAudit } from '@/lib/audit';
import { entryHmac, entryLeafHash, hmacEquals } from '@/lib/audit/chain';
import {
  consistencyProof,
  EMPTY_EDGE,
  edgeRoot,
  extendTree,
  inclusionProof,
  rootAt,
  type TreeEdge,
} from '@/lib/audit/merkle';
import { catchUpTree, dbTiles, treeSize } from '@/lib/audit/tree';
import { verifyChainParallel } from '@/lib/audit/verify-parallel';
import { COPY_COLUMNS, parseCopyRow } from '@/lib/audit/verify-worker';
import { tsxWorker } from '@/lib/audit/verify-worker-tsx';
import postgres from 'postgres';
import { log, median, parseCounts, runBench } from './harness';

const WRITERS = 32;
const WARM_UP_MS = 1000;
const APPEND_ROUNDS = 3;
const USAGE =
  'usage: npm run bench:audit [-- [--seconds N] [--verify-entries N] [--verify-repeats N] [--workers N]]';

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

async function bench(
  db: Db,
  url: string,
  seconds: number,
  verifyEntries: number,
  repeats: number,
  workers: number,
) {
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
  for (let round = 1; round <= APPEND_ROUNDS; round++) {
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
      `append round ${round}/${APPEND_ROUNDS}, ${WRITERS} writers, ${seconds} s each: unaudited ${unaudited.toFixed(0)}/s, audited ${audited.toFixed(0)}/s (ratio ${(audited / unaudited).toFixed(3)})`,
    );
    await db.execute(sql`vacuum analyze organizations`);
  }
  const unaudited = median(unauditedRates);
  const audited = median(auditedRates);
  const appendRatio = median(auditedRates.map((a, i) => a / unauditedRates[i]!));

  const [count] = await rows<{ n: string }>(db, sql`select count(*)::text as n from audit_log`);
  const missing = verifyEntries - Number(count?.n ?? 0);
  if (missing > 0) {
    log(`topping the chain up by ${missing} entries to ${verifyEntries}, without the Merkle tree`);
    await appendFakeAudit(db, missing, { orgIds, keys, log, tree: false });
  }
  const treeBefore = await treeSize(db);
  log(`building the Merkle tree from ${treeBefore} leaves (catchUpTree)`);
  const t0Tree = performance.now();
  const built = await catchUpTree(db);
  const buildS = (performance.now() - t0Tree) / 1000;
  log(`the tree caught up by ${built} leaves in ${buildS.toFixed(1)} s`);
  await db.execute(sql`vacuum analyze audit_log`);
  await db.execute(sql`vacuum analyze audit_merkle_tiles`);

  const verifies: number[] = [];
  const hmacOnly: number[] = [];
  // The tree recomputed from the entries themselves, during the first hmac_only read (untimed).
  const scratch = { edge: EMPTY_EDGE as TreeEdge };
  let verified: Awaited<ReturnType<typeof verifyChainParallel>> | undefined;
  for (let round = 1; round <= repeats; round++) {
    log(`round ${round}/${repeats}: verifying the whole chain with ${workers} workers`);
    let reported = 0;
    const t0 = performance.now();
    verified = await verifyChainParallel(db, {
      url,
      startWorker: tsxWorker,
      keys,
      workers,
      checkpoints: false,
      onProgress: (checked) => {
        if (checked - reported >= 200_000) {
          reported = checked;
          log(`verified ${checked}`);
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    verifies.push(verified.checked / seconds);
    log(
      verified.ok
        ? `chain ok: ${verified.checked} entries, ${Math.round(verified.checked / seconds)}/s`
        : `chain BROKEN: ${JSON.stringify(verified)}`,
    );
    const loop = await hmacOnlyPerS(url, keys, round === 1 ? scratch : null);
    hmacOnly.push(loop);
    log(`hmac_only: ${Math.round(loop)}/s (ratio ${(verifies.at(-1)! / loop).toFixed(3)})`);
  }
  const ratios = verifies.map((v, i) => v / hmacOnly[i]!);
  const tree = await treeFigures(db, scratch.edge, { built, buildS });

  return {
    append_audited_per_s: Math.round(audited),
    append_unaudited_per_s: Math.round(unaudited),
    ratio: Number(appendRatio.toFixed(3)),
    verify_entries: verified?.checked ?? 0,
    verify_workers: workers,
    verify_per_s: Math.round(median(verifies)),
    hmac_only_per_s: Math.round(median(hmacOnly)),
    verify_ratio: Number(median(ratios).toFixed(3)),
    verify_rounds: verifies.map((v, i) => ({
      verify_per_s: Math.round(v),
      hmac_only_per_s: Math.round(hmacOnly[i]!),
    })),
    chain_ok: verified?.ok ?? false,
    tree,
  };
}

/**
 * The Merkle tree at the full size: its tiles, whether its root is the one recomputed from the entries, and
 * what proofs cost there (the median of 15 computations each, through the same reader as the API).
 */
async function treeFigures(db: Db, scratch: TreeEdge, catchUp: { built: number; buildS: number }) {
  const size = await treeSize(db);
  // A tile is stored as the rows that grew it (one per append): both counts, per level.
  const levels = await rows<{ level: number; tiles: string; rows: string; bytes: string }>(
    db,
    sql`select level, count(distinct idx)::text as tiles, count(*)::text as rows,
               sum(octet_length(hashes))::text as bytes
        from audit_merkle_tiles group by level order by level`,
  );
  const [table] = await rows<{ bytes: string }>(
    db,
    sql`select pg_total_relation_size('audit_merkle_tiles')::text as bytes`,
  );
  const reader = dbTiles(db);
  const root = await rootAt(size, reader);
  const timed = async (f: () => Promise<Buffer[]>) => {
    const ms: number[] = [];
    let proof: Buffer[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      proof = await f();
      ms.push(performance.now() - t0);
    }
    // The JSON an API answer or a download carries for the proof: base64 hashes in an array.
    const jsonBytes = JSON.stringify(proof.map((h) => h.toString('base64'))).length;
    return { hashes: proof.length, json_bytes: jsonBytes, median_ms: Number(median(ms).toFixed(2)) };
  };
  const pick = (n: number) => Math.max(1, Math.min(size, n));
  const inclusion = {
    first: await timed(() => inclusionProof(0, size, reader)),
    middle: await timed(() => inclusionProof(pick(Math.floor(size / 2)) - 1, size, reader)),
    last: await timed(() => inclusionProof(size - 1, size, reader)),
  };
  const consistency = {
    from_half: await timed(() => consistencyProof(pick(Math.floor(size / 2) + 7), size, reader)),
    from_one_less: await timed(() => consistencyProof(pick(size - 1), size, reader)),
    from_one: await timed(() => consistencyProof(1, size, reader)),
  };
  const result = {
    size,
    root_matches_entries: scratch.size === size && edgeRoot(scratch).equals(root),
    tiles_by_level: Object.fromEntries(levels.map((l) => [l.level, Number(l.tiles)])),
    rows_by_level: Object.fromEntries(levels.map((l) => [l.level, Number(l.rows)])),
    hash_bytes: levels.reduce((n, l) => n + Number(l.bytes), 0),
    table_bytes: Number(table?.bytes ?? 0),
    catch_up_leaves: catchUp.built,
    catch_up_per_s: Math.round(catchUp.built / Math.max(catchUp.buildS, 0.001)),
    inclusion_proof: inclusion,
    consistency_proof: consistency,
  };
  log(`Merkle tree: ${JSON.stringify(result)}`);
  return result;
}

/**
 * The ceiling verification is measured against: entryHmac and the comparison, in a plain loop on one
 * thread, over the same entries. They are read (COPY) and parsed in batches beforehand, outside the
 * timing; only the loop is timed.
 */
async function hmacOnlyPerS(
  url: string,
  keys: HmacKeyRing,
  scratch: { edge: TreeEdge } | null,
): Promise<number> {
  const key = keys.keys.get(keys.activeId)!;
  let entries = 0;
  let ms = 0;
  let bad = 0;
  const BATCH = 50_000;
  for (let from = 1; ; from += BATCH) {
    const batch = await copyBatch(url, from, from + BATCH - 1);
    if (batch.length === 0) break;
    const t0 = performance.now();
    for (const e of batch) if (!hmacEquals(entryHmac(key, e), e.hmac)) bad++;
    ms += performance.now() - t0;
    entries += batch.length;
    if (scratch) scratch.edge = extendTree(scratch.edge, batch.map(entryLeafHash)).edge;
  }
  if (bad) log(`hmac_only: ${bad} entries did not verify`);
  return entries / (ms / 1000);
}

async function copyBatch(url: string, from: number, to: number) {
  // A connection per COPY, for the reason given in lib/audit/verify-worker.ts.
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { TimeZone: 'UTC', DateStyle: 'ISO' },
  });
  try {
    const stream = await sql
      .unsafe(
        `copy (select ${COPY_COLUMNS} from audit_log where seq >= ${from} and seq <= ${to} order by seq) to stdout`,
      )
      .readable();
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    lines.pop();
    return lines.map(parseCopyRow);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const counts = parseCounts(
  process.argv.slice(2),
  {
    seconds: { fallback: 5, min: 1 },
    'verify-entries': { fallback: 1_000_000, min: 0 },
    'verify-repeats': { fallback: 3, min: 1 },
    workers: { fallback: Math.max(2, os.availableParallelism()), min: 1 },
  },
  USAGE,
);
await runBench(
  'bench:audit',
  { pool: WRITERS + 2 },
  (db, url) =>
    bench(db, url, counts.seconds, counts['verify-entries'], counts['verify-repeats'], counts.workers),
  (r) => r.chain_ok && r.tree.root_matches_entries,
);
