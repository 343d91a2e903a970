import { desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { rows } from '@/db/client';
import { auditVerifyRuns } from '@/db/schema';
import { readCheckpoints } from '@/lib/audit/checkpoint';
import { checkpointKeyRing, publicKeyPem } from '@/lib/audit/checkpoint-keys';
import { readCosignatures, type StoredCosignature, witnessStanding } from '@/lib/audit/cosignatures';
import { checkHead, keyAt } from '@/lib/audit/head';
import { CHECKPOINT_ROTATION, HMAC_ROTATION, rotations } from '@/lib/audit/key-state';
import { hmacKeyRing } from '@/lib/audit/keys';
import { configuredWitnesses, type Witness } from '@/lib/audit/witnesses';
import { can, requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { NotFoundError, parseInput } from '@/lib/errors';
import { secretsWritable } from '@/lib/secrets';
import { STALE_RUN_S } from '@/lib/services/audit/verify';

type RunRow = typeof auditVerifyRuns.$inferSelect;

/** A run as the page shows it: progress, rate and time left computed from the row. */
export function runView(run: RunRow, now = new Date()) {
  const total = Math.max(0, run.toSeq - run.fromSeq + 1);
  const end = run.finishedAt ?? now;
  const elapsedS = Math.max(0.001, (end.getTime() - run.startedAt.getTime()) / 1000);
  const rate = run.checked / elapsedS;
  const stale = run.status === 'running' && now.getTime() - run.heartbeatAt.getTime() > STALE_RUN_S * 1000;
  return {
    id: run.id,
    status: stale ? ('interrupted' as const) : (run.status as 'running' | 'valid' | 'broken' | 'failed'),
    source: run.source,
    requestedEmail: run.requestedEmail,
    fromSeq: run.fromSeq,
    toSeq: run.toSeq,
    total,
    checked: run.checked,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    elapsedS: Number(elapsedS.toFixed(1)),
    ratePerS: Math.round(rate),
    etaS: run.status === 'running' && rate > 0 ? Math.max(0, Math.round((total - run.checked) / rate)) : null,
    result: run.result as Record<string, unknown> | null,
  };
}
export type RunView = ReturnType<typeof runView>;

export async function verifyRun(ctx: StaffCtx, rawId: string): Promise<RunView> {
  requirePermission(ctx, 'audit.verify');
  const id = parseInput(z.uuid('a run id'), rawId);
  const [run] = await ctx.db.select().from(auditVerifyRuns).where(eq(auditVerifyRuns.id, id));
  if (!run) throw new NotFoundError('No such verification run.');
  return runView(run);
}

export async function recentVerifyRuns(ctx: StaffCtx, limit = 10): Promise<RunView[]> {
  requirePermission(ctx, 'audit.verify');
  const runs = await ctx.db
    .select()
    .from(auditVerifyRuns)
    .orderBy(desc(auditVerifyRuns.startedAt))
    .limit(limit);
  const now = new Date();
  return runs.map((r) => runView(r, now));
}

export async function chainHead(ctx: StaffCtx): Promise<number> {
  requirePermission(ctx, 'audit.read');
  const [head] = await rows<{ seq: string | null }>(ctx.db, sql`select max(seq)::text as seq from audit_log`);
  return Number(head?.seq ?? 0);
}

const PAGE = 50;
const CheckpointPage = z.object({ before: z.iso.datetime('a time (ISO 8601)').optional() });

/** Checkpoints, newest first, 50 a page (keyset on signed_at). */
export async function checkpointList(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'audit.read');
  const { before } = parseInput(CheckpointPage, raw);
  const list = await readCheckpoints(ctx.db, { newestFirst: true, limit: PAGE + 1, before });
  const shown = list.slice(0, PAGE);
  const answers = await readCosignatures(
    ctx.db,
    shown.map((c) => c.id),
  );
  const configured = configuredWitnesses();
  const checkpoints = shown.map((c) => ({
    ...c,
    witnesses: c.note ? witnessBadges(c.id, answers, configured) : null,
  }));
  return { checkpoints, more: list.length > PAGE, chainId: config().AUDIT_CHAIN_ID };
}

export type WitnessBadge =
  | Omit<StoredCosignature, 'checkpointId'>
  | { outcome: 'not_sent'; witnessName: string; witnessKey: string; witnessUrl: string };

/**
 * One badge per witness for a checkpoint with a note: its latest answer for that checkpoint, and "not
 * sent" for a configured witness never asked about it (only the newest checkpoint is sent to each witness).
 */
function witnessBadges(
  checkpointId: string,
  answers: readonly StoredCosignature[],
  configured: readonly Witness[],
): WitnessBadge[] {
  const latest = new Map<string, WitnessBadge>();
  for (const { checkpointId: id, ...a } of answers) if (id === checkpointId) latest.set(a.witnessKey, a);
  for (const w of configured)
    if (!latest.has(w.vkey))
      latest.set(w.vkey, { outcome: 'not_sent', witnessName: w.name, witnessKey: w.vkey, witnessUrl: w.url });
  return [...latest.values()].sort((a, b) => a.witnessName.localeCompare(b.witnessName));
}

/**
 * The configured witnesses (AUDIT_WITNESS_URLS, AUDIT_WITNESS_KEYS), the largest tree each has cosigned, and
 * when each last raised an alarm that no cosignature has followed.
 */
export async function witnessList(ctx: StaffCtx) {
  requirePermission(ctx, 'audit.read');
  const standing = await witnessStanding(ctx.db);
  return configuredWitnesses().map((w) => ({
    name: w.name,
    url: w.url,
    vkey: w.vkey,
    lastSize: standing.get(w.vkey)?.size ?? null,
    lastCosignedAt: standing.get(w.vkey)?.cosignedAt ?? null,
    alarmAt: standing.get(w.vkey)?.alarmAt ?? null,
  }));
}

/** The checkpoint public keys (not secret), PEM by key id, and which one signs now. */
export function checkpointPublicKeyList(ctx: StaffCtx) {
  requirePermission(ctx, 'audit.read');
  const ring = checkpointKeyRing();
  return [...ring.keys].map(([id, key]) => ({
    id,
    active: id === ring.activeId,
    pem: publicKeyPem(key),
    canSign: key.privateKey !== null,
  }));
}

/**
 * The key rings for /audit/keys: ids and states only (never key material, except the public checkpoint
 * keys). A key is `active`, `retired` (was active once) or `staged` (in the secret, never used).
 */
export async function auditKeyOverview(ctx: StaffCtx) {
  requirePermission(ctx, 'audit.verify');
  const hmac = hmacKeyRing();
  // The key in force is the chain's (its genuine rotation history), not this process's ring.
  const head = await checkHead(ctx.db, hmac);
  const headSeq = head.ok ? head.head.seq : head.seq;
  const inForce = keyAt(head.history, headSeq + 1) ?? hmac.activeId;
  const hmacRotations = await rotations(ctx.db, HMAC_ROTATION, 50, hmac, head.history);
  const checkpointRotations = await rotations(ctx.db, CHECKPOINT_ROTATION, 50, hmac, head.history);
  const [firstEntry] = await rows<{ id: string }>(
    ctx.db,
    sql`select hmac_key_id as id from audit_log order by audit_log.seq limit 1`,
  );
  const [firstCheckpoint] = await rows<{ id: string }>(
    ctx.db,
    sql`select key_id as id from audit_checkpoints where chain_id = ${config().AUDIT_CHAIN_ID} order by signed_at limit 1`,
  );
  const state = (id: string, active: string, history: typeof hmacRotations, first: string | undefined) =>
    id === active
      ? ('active' as const)
      : history.some((r) => r.toKeyId === id || r.fromKeyId === id) || id === first
        ? ('retired' as const)
        : ('staged' as const);
  const lastRotation = head.history.rotations.at(-1);
  const cp = checkpointKeyRing();
  return {
    /** The key the chain's next entry must use, and the genuine rotation that put it in force. */
    inForce: { keyId: inForce, sinceSeq: lastRotation?.seq ?? null },
    /** The newest entry and whether it verifies under the key in force at its seq (else an alert). */
    newestEntry:
      headSeq === 0
        ? null
        : head.ok
          ? { seq: headSeq, keyId: head.headKeyId ?? '', ok: true as const }
          : { seq: headSeq, keyId: head.usedKeyId, ok: false as const, problem: head.problem },
    /** This replica appends with another key than the chain's (it lacks the key, or has not synced yet). */
    processKeyId: hmac.activeId,
    hmacKeys: [...hmac.keys.keys()].map((id) => ({
      id,
      state: state(id, inForce, hmacRotations, firstEntry?.id),
    })),
    checkpointKeys: [...cp.keys].map(([id, key]) => ({
      id,
      state: state(id, cp.activeId, checkpointRotations, firstCheckpoint?.id),
      publicOnly: key.privateKey === null,
    })),
    hmacRotations,
    checkpointRotations,
    canRotate: can(ctx.role, 'keys.rotate'),
    generates: secretsWritable(),
  };
}

/**
 * The drain's own check of the chain's head (lib/audit/head.ts), for the banner on the audit pages: when it
 * fails, nothing is chained and audited writes' entries wait in the inbox.
 */
export async function brokenHead(
  ctx: StaffCtx,
): Promise<{ seq: number; problem: string; waiting: number } | null> {
  requirePermission(ctx, 'audit.read');
  const head = await checkHead(ctx.db, hmacKeyRing());
  if (head.ok) return null;
  const [inbox] = await rows<{ n: string }>(ctx.db, sql`select count(*)::text as n from audit_inbox`);
  return { seq: head.seq, problem: head.problem, waiting: Number(inbox?.n ?? 0) };
}
