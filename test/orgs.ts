import { desc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Database, rows } from '@/db/client';
import { auditLog, organizations } from '@/db/schema';
import { verifyChain } from '@/lib/audit';
import { can } from '@/lib/auth/permissions';
import type { StaffRole } from '@/lib/auth/roles';
import { type StaffCtx, validateSession } from '@/lib/auth/session';
import type { PlanTier } from '@/lib/plans';
import { ApprovalPending } from '@/lib/approvals/gate';
import { startActing } from '@/lib/services/acting/acting';
import { approvedBy } from '@/test/approvals';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';

/** What a refused service call threw, or null when it went through. */
export const err = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as { status: number; code: string; message: string; extra: Record<string, unknown> },
  );

/**
 * The fixture of the organisation service tests: a fresh database for the test file, a connection that
 * listens for `org_config_changed`, and the audit chain verified at the end.
 */
export function orgServiceKit() {
  let database: Database;
  let notified: string[] = [];
  let stopListening: () => Promise<void>;

  beforeAll(async () => {
    database = await testDatabase();
    stopListening = await database.listen('org_config_changed', (orgId) => notified.push(orgId));
  });
  afterAll(async () => {
    await stopListening();
    expect(await verifyChain(database.db)).toMatchObject({ ok: true });
    await database.close();
  });

  async function newOrg(tier: PlanTier = 'team_saas') {
    const slug = `org-${crypto.randomUUID().slice(0, 8)}`;
    const [org] = await database.db
      .insert(organizations)
      .values({ slug, name: `Org ${slug}`, planTier: tier })
      .returning();
    return org!;
  }

  /** A staff member of `role` acting for the organisation, as a request with the claim would see it. */
  async function actingFor(
    role: StaffRole,
    orgId: string,
    opts: { signedInSecondsAgo?: number } = {},
  ): Promise<StaffCtx> {
    const ctx = await staffWithSession(database.db, role, opts);
    const started = await startActing(ctx, { orgId, reason: 'Customer asked for it', ticketRef: 'SUP-7' });
    const r = await validateSession(
      database.db,
      ctx.sessionId,
      { requestId: null, ip: null, userAgent: null },
      undefined,
      undefined,
      started.id,
    );
    if (!r.ok) throw new Error(r.reason);
    return r.ctx;
  }

  /** Acting for the organisation when the role may act at all (the auditor may not), else a plain session. */
  function staffFor(role: StaffRole, orgId: string): Promise<StaffCtx> {
    return can(role, 'acting.start') ? actingFor(role, orgId) : staffWithSession(database.db, role);
  }

  /**
   * The second person: when `result` is a request (ApprovalPending), a superadmin acting for `orgId` (or
   * `approver`) approves it, and the verb's own result comes back; anything else is returned as it is.
   */
  /** approvedBy with a superadmin acting for `orgId` (or a plain one) unless `approver` is given. */
  async function approved<T>(
    result: Promise<T | ApprovalPending>,
    orgId: string | null,
    approver?: StaffCtx,
  ) {
    return approvedBy(
      result,
      approver ??
        (orgId ? await actingFor('superadmin', orgId) : await staffWithSession(database.db, 'superadmin')),
    );
  }

  async function auditCount() {
    const [r] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_log`);
    return r!.n;
  }

  async function lastEntry() {
    const [e] = await database.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
    return e!;
  }

  return {
    get db() {
      return database.db;
    },
    newOrg,
    actingFor,
    approved,
    staffFor,
    plainStaff: (role: StaffRole) => staffWithSession(database.db, role),
    auditCount,
    lastEntry,
    forgetNotifications: () => {
      notified = [];
    },
    /** NOTIFY is delivered on commit; give the listening connection a moment. */
    notifiedOf: async (orgId: string) => {
      await expect.poll(() => notified.includes(orgId), { timeout: 2000 }).toBe(true);
    },
  };
}
