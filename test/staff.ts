import crypto from 'node:crypto';
import type { Db } from '@/db/client';
import { staffCredentials, staffSessions, staffUsers } from '@/db/schema';
import type { StaffRole } from '@/lib/auth/roles';
import { type StaffCtx, validateSession } from '@/lib/auth/session';

/**
 * Test data written straight to the database: a staff member with keys and a live session, and the
 * StaffCtx that lib/auth/session.ts builds for it, as a signed-in request would get.
 */
export async function staffWithSession(
  db: Db,
  role: StaffRole,
  opts: { keys?: number; signedInSecondsAgo?: number } = {},
): Promise<StaffCtx> {
  const id = crypto.randomUUID();
  await db.insert(staffUsers).values({
    id,
    email: `${role}-${id.slice(0, 8)}@arbitex.ai`,
    displayName: `${role} ${id.slice(0, 4)}`,
    role,
  });
  for (let i = 0; i < (opts.keys ?? 1); i++) {
    await db.insert(staffCredentials).values({
      id: crypto.randomBytes(32).toString('base64url'),
      staffId: id,
      publicKey: crypto.randomBytes(77).toString('base64url'),
      counter: 5,
      aaguid: '01020304-0506-0708-0102-030405060708',
      backedUp: false,
      deviceType: 'singleDevice',
      nickname: `Key ${i + 1}`,
    });
  }
  const at = new Date(Date.now() - (opts.signedInSecondsAgo ?? 0) * 1000);
  const [session] = await db
    .insert(staffSessions)
    .values({
      staffId: id,
      createdAt: at,
      lastSeenAt: at,
      idleExpiresAt: new Date(Date.now() + 900_000),
      absoluteExpiresAt: new Date(Date.now() + 8 * 3600_000),
    })
    .returning();
  const result = await validateSession(db, session!.id, {
    requestId: 'test',
    ip: '127.0.0.1',
    userAgent: 'vitest',
  });
  if (!result.ok) throw new Error(`test session refused: ${result.reason}`);
  return result.ctx;
}
