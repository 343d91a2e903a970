import type { Db, Tx } from '@/db/client';
import { AuditAction } from './actions';
import { canonicalJson } from './canonical';
import { log } from '@/lib/log';
import { chainPending, enqueueEntries } from './inbox';
import type { ChainEntry } from './chain';
import { type HmacKeyRing, hmacKeyRing } from './keys';

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
  /**
   * Set while a second person executes an approved request (lib/approvals): the write's transaction claims
   * the request first, so that it runs once, and its entry names both people.
   */
  approval?: { claim(tx: Tx): Promise<void>; facts: Record<string, unknown> };
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
  /** Entries for facts that happened in the same write, appended before this one. */
  readonly earlier: Array<{ entry: AuditEntryInput; facts: Record<string, unknown> }> = [];

  constructor(public entry: AuditEntryInput) {}

  /** Records another fact of the same transaction as its own entry, e.g. the context a new one replaced. */
  also(entry: AuditEntryInput, facts: Record<string, unknown> = {}): void {
    AuditAction.parse(entry.action);
    this.earlier.push({ entry, facts });
  }

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

  /** The entry's `diff` column; it is redacted when the entry is recorded. */
  toDiff(): Record<string, unknown> | null {
    const d = {
      ...this.details,
      ...(this.before !== undefined && { before: this.before }),
      ...(this.after !== undefined && { after: this.after }),
    };
    return Object.keys(d).length === 0 ? null : d;
  }
}

/**
 * What a write answers when what it was asked to write is there already: it wrote nothing, so no row
 * changed, no version moved and there is no audit entry. `message` says so in words a person reads. The
 * route sends it as JSON: `{ "changed": false, "message": "Nothing changed: …" }`, status 200.
 */
export class Unchanged {
  readonly changed = false as const;
  readonly message: string;
  constructor(why: string) {
    this.message = `Nothing changed: ${why}`;
  }
}

/** The answer of a write that would change nothing; withAudit rolls it back and records no entry. */
export function unchanged(why: string): Unchanged {
  return new Unchanged(why);
}

/** Whether two recorded values are the same as JSON (key order aside): a write between them changes nothing. */
export function sameValues(a: unknown, b: unknown): boolean {
  const json = (v: unknown) => canonicalJson(v === undefined ? null : JSON.parse(JSON.stringify(v)));
  return json(a) === json(b);
}

/** Carries a no-op's answer out of its transaction, rolling back what it did (locks, at most). */
class RollBackNoChange extends Error {
  constructor(readonly answer: Unchanged) {
    super('unchanged');
  }
}

/**
 * The audited-write path. Runs `write` and records its audit entry in one transaction: if either fails,
 * neither is kept. The entry goes to the audit inbox with the write; once both are committed, it waits
 * until the entry is on the chain (inbox.ts). Should chaining fail after the commit, the entry stays in
 * the inbox, and the next audited write or start-up chains it.
 */
export async function withAudit<T>(
  ctx: AuditCtx,
  entry: AuditEntryInput,
  write: (tx: Tx, audit: AuditRecorder) => Promise<T>,
  keys: HmacKeyRing = hmacKeyRing(),
): Promise<T> {
  AuditAction.parse(entry.action);
  let result: T;
  try {
    result = await ctx.db.transaction(async (tx) => {
      const recorder = new AuditRecorder(entry);
      const result = await write(tx, recorder);
      // Asked to set what is there already: nothing to keep, nothing to record.
      if (result instanceof Unchanged) throw new RollBackNoChange(result);
      if (ctx.approval) {
        // After the write, not before: the claim's foreign key to the approver takes a share lock on their
        // staff row, and a write that locks staff rows itself (two superadmins disabling each other under
        // break-glass) would then deadlock with its twin. A request decided meanwhile still rolls it back.
        await ctx.approval.claim(tx);
        recorder.detail(ctx.approval.facts);
      }
      await enqueueEntry(tx, ctx, recorder, keys);
      return result;
    });
  } catch (err) {
    if (err instanceof RollBackNoChange) return err.answer as T;
    throw err;
  }
  await chainPending(ctx.db, keys).catch((err: unknown) => {
    log.error(
      { err, action: entry.action },
      'audit: chaining the inbox failed; the entry waits in audit_inbox',
    );
  });
  return result;
}

/** An entry with no business write: a denied attempt, a sign-in failure, a verification run. */
export function recordAudit(
  ctx: AuditCtx,
  entry: AuditEntryInput,
  facts: Record<string, unknown> = {},
): Promise<void> {
  // A refusal or a check claims no approval: only the write itself does.
  return withAudit({ ...ctx, approval: undefined }, entry, async (_tx, audit) => audit.detail(facts));
}

function enqueueEntry(tx: Tx, ctx: AuditCtx, recorder: AuditRecorder, keys: HmacKeyRing) {
  const row = (entry: AuditEntryInput, diff: Record<string, unknown> | null) => ({
    action: entry.action,
    request_id: ctx.requestId,
    actor_staff_id: ctx.actor.staffId,
    actor_email: ctx.actor.email,
    acting_org_id: ctx.actor.actingOrgId,
    acting_context_id: ctx.actor.actingContextId,
    org_id: entry.orgId ?? null,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    outcome: entry.outcome ?? 'success',
    diff,
    src_ip: ctx.ip,
    user_agent: ctx.userAgent,
  });
  return enqueueEntries(
    tx,
    [
      ...recorder.earlier.map((e) => row(e.entry, Object.keys(e.facts).length ? e.facts : null)),
      row(recorder.entry, recorder.toDiff()),
    ],
    keys,
  );
}
