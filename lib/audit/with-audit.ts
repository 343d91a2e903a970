import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { auditLog } from '@/db/schema';
import { AuditAction } from './actions';
import { type ChainEntry, entryHmac, GENESIS_HMAC } from './chain';
import { type HmacKeyRing, hmacKeyRing } from './keys';
import { redact } from './redact';

/** Who is acting, and from where. Both identities go into every entry. */
export interface AuditActor {
  staffId: string | null;
  email: string | null;
  actingOrgId: string | null;
  actingContextId: string | null;
}

export interface AuditCtx {
  db: Db;
  actor: AuditActor;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntryInput {
  action: AuditAction;
  orgId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  outcome?: ChainEntry['outcome'];
}

/** What the business write tells the entry while it runs. */
export class AuditRecorder {
  private before: unknown;
  private after: unknown;
  private details: Record<string, unknown> = {};

  constructor(public entry: AuditEntryInput) {}

  /** Before and after values of what changed. Secret fields are redacted. */
  diff(before: unknown, after: unknown): void {
    this.before = before;
    this.after = after;
  }

  /** Extra facts for the entry, such as a reason or a `weakening` flag. */
  detail(facts: Record<string, unknown>): void {
    Object.assign(this.details, facts);
  }

  target(targetType: string, targetId: string): void {
    this.entry = { ...this.entry, targetType, targetId };
  }

  toDiff(): unknown {
    const d = {
      ...this.details,
      ...(this.before !== undefined && { before: this.before }),
      ...(this.after !== undefined && { after: this.after }),
    };
    // The JSON round trip is what jsonb stores, so the HMAC is computed over exactly what is read back.
    return Object.keys(d).length === 0 ? null : JSON.parse(JSON.stringify(redact(d)));
  }
}

const CHAIN_LOCK = 0x4155_4449; // "AUDI": the one advisory lock that serialises appends to the chain

/**
 * The audited-write path. Runs `write` and appends its chained audit entry in one transaction: if either
 * fails, neither is kept. The chain lock is the last thing taken before commit, so it is held only for
 * the append itself.
 */
export async function withAudit<T>(
  ctx: AuditCtx,
  entry: AuditEntryInput,
  write: (tx: Tx, audit: AuditRecorder) => Promise<T>,
  keys: HmacKeyRing = hmacKeyRing(),
): Promise<T> {
  AuditAction.parse(entry.action);
  return ctx.db.transaction(async (tx) => {
    const recorder = new AuditRecorder(entry);
    const result = await write(tx, recorder);
    await appendEntry(tx, ctx, recorder, keys);
    return result;
  });
}

/** An entry with no business write: a denied attempt, a sign-in failure, a verification run. */
export function recordAudit(
  ctx: AuditCtx,
  entry: AuditEntryInput,
  facts: Record<string, unknown> = {},
): Promise<void> {
  return withAudit(ctx, entry, async (_tx, audit) => audit.detail(facts));
}

async function appendEntry(tx: Tx, ctx: AuditCtx, recorder: AuditRecorder, keys: HmacKeyRing): Promise<void> {
  const key = keys.keys.get(keys.activeId);
  if (!key) throw new Error(`The active audit HMAC key ${keys.activeId} is not in the key ring`);
  const { entry } = recorder;
  const diff = recorder.toDiff();

  // A separate statement from the head read: under READ COMMITTED the read then takes its snapshot after
  // the lock is granted, so it sees the previous holder's committed entry.
  await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`);
  const [head] = await rows<{ seq: string | number; hmac: string }>(
    tx,
    sql`select seq, hmac from audit_log order by seq desc limit 1`,
  );
  const row: Omit<ChainEntry, 'hmac'> = {
    seq: head ? Number(head.seq) + 1 : 1,
    id: crypto.randomUUID(),
    occurred_at: new Date().toISOString(),
    request_id: ctx.requestId,
    actor_staff_id: ctx.actor.staffId,
    actor_email: ctx.actor.email,
    acting_org_id: ctx.actor.actingOrgId,
    acting_context_id: ctx.actor.actingContextId,
    org_id: entry.orgId ?? null,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    outcome: entry.outcome ?? 'success',
    diff,
    src_ip: ctx.ip,
    user_agent: ctx.userAgent,
    enforcement_action: null,
    policy_rule_id: null,
    pack_id: null,
    framework_ref: null,
    hmac_key_id: keys.activeId,
    prev_hmac: head?.hmac ?? GENESIS_HMAC,
  };
  const hmac = entryHmac(key, row);
  await tx.insert(auditLog).values(toDbRow({ ...row, hmac }));
}

export function toDbRow(e: ChainEntry): typeof auditLog.$inferInsert {
  return {
    seq: e.seq,
    id: e.id,
    occurredAt: new Date(e.occurred_at),
    requestId: e.request_id,
    actorStaffId: e.actor_staff_id,
    actorEmail: e.actor_email,
    actingOrgId: e.acting_org_id,
    actingContextId: e.acting_context_id,
    orgId: e.org_id,
    action: e.action,
    targetType: e.target_type,
    targetId: e.target_id,
    outcome: e.outcome,
    diff: e.diff,
    srcIp: e.src_ip,
    userAgent: e.user_agent,
    enforcementAction: e.enforcement_action,
    policyRuleId: e.policy_rule_id,
    packId: e.pack_id,
    frameworkRef: e.framework_ref,
    hmacKeyId: e.hmac_key_id,
    prevHmac: e.prev_hmac,
    hmac: e.hmac,
  };
}
