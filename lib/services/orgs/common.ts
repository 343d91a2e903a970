import { eq, sql } from 'drizzle-orm';
import type { Tx } from '@/db/client';
import { organizations } from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import { BLOCKING_STEP_UP_MAX_AGE_S, requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { ConflictError, NotFoundError, ValidationError } from '@/lib/errors';
import { BLOCK_PERMISSION, BLOCK_RULE, blocks, type Limits, unconfirmedZeros } from '@/lib/rate-limits';

/**
 * Tells the gateway, in the write's own transaction, that an organisation's configuration changed:
 * listeners get it on commit and never for a rolled-back write (docs/PLATFORM_CONTRACT.md).
 */
export async function notifyOrgChanged(tx: Tx, orgId: string): Promise<void> {
  await tx.execute(sql`select pg_notify('org_config_changed', ${orgId})`);
}

/**
 * Locks the organisation row and checks the version the editor saw; a stale one gets 409 and the row.
 * Without a version it only locks, e.g. to keep the tier from changing under a write that depends on it.
 */
export async function lockOrg(tx: Tx, orgId: string, version?: number) {
  const [org] = await tx.select().from(organizations).where(eq(organizations.id, orgId)).for('update');
  if (!org) throw new NotFoundError('No such organisation.');
  if (version !== undefined && org.version !== version) {
    throw new ConflictError(
      'Someone changed this organisation since you loaded the page. Review the current values.',
      org,
    );
  }
  return org;
}

/** Moves the organisation's version on, for a change to it or to a row that hangs off it. */
export async function bumpOrgVersion(tx: Tx, orgId: string) {
  const [org] = await tx
    .update(organizations)
    .set({ version: sql`${organizations.version} + 1` })
    .where(eq(organizations.id, orgId))
    .returning();
  return org!;
}

/**
 * Optimistic concurrency for a row that hangs off an organisation and may not exist yet: `version` is the
 * one the editor saw, null when they saw no row. A mismatch gets 409 with the current row (or null).
 */
export function checkVersion<T extends { version: number }>(
  current: T | undefined,
  version: number | null,
  what: string,
): void {
  if ((current?.version ?? null) !== version) {
    throw new ConflictError(
      `Someone changed ${what} since you loaded the page. Review the current values.`,
      current ?? null,
    );
  }
}

/**
 * The checks of a write of limits (lib/rate-limits.ts): a 0 needs the kill switch's permission, the
 * explicit confirmation and a key check within the last minute, as a suspension does. Run after the input is parsed and the acting context checked.
 */
export function checkBlocking(ctx: StaffCtx, limits: Partial<Limits>, confirmBlocked: boolean): void {
  if (!blocks(limits)) return;
  requirePermission(ctx, BLOCK_PERMISSION, BLOCK_RULE);
  const zeros = unconfirmedZeros(limits, confirmBlocked);
  if (Object.keys(zeros).length > 0) throw new ValidationError(zeros);
  requireFreshAuth(ctx, BLOCKING_STEP_UP_MAX_AGE_S);
}
