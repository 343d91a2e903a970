import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { type KeyRow, KeysTable } from '@/components/keys/keys-table';
import { type SessionRow, StaffAdmin } from '@/components/staff/staff-admin';
import { can } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { NotFoundError } from '@/lib/errors';
import { staffDetail } from '@/lib/queries/staff';

export const metadata: Metadata = { title: 'Staff member' };

export default async function StaffMemberPage({ params }: { params: Promise<{ id: string }> }) {
  const ctx = await requireStaffPage('staff.read');
  const { id } = await params;
  const detail = await staffDetail(ctx, id).catch((err: unknown) => {
    if (err instanceof NotFoundError) notFound();
    throw err;
  });
  const manage = can(ctx.role, 'staff.manage');
  // Dates cross to the client components as ISO strings.
  const now = new Date();
  const sessions: SessionRow[] = detail.sessions.map((s) => ({
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    lastSeenAt: s.lastSeenAt.toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
    state: s.revokedAt
      ? 'revoked'
      : s.idleExpiresAt > now && s.absoluteExpiresAt > now
        ? 'active'
        : 'expired',
  }));
  const keys = JSON.parse(JSON.stringify(detail.keys)) as KeyRow[];
  return (
    <section className="space-y-8">
      <div>
        <h1 className="text-2xl font-semibold">{detail.staff.displayName}</h1>
        <p className="text-sm text-slate-600">
          {detail.staff.email} · {detail.staff.role} · {detail.staff.status}
        </p>
      </div>
      {manage ? (
        <StaffAdmin
          staff={detail.staff}
          sessions={sessions}
          self={detail.staff.id === ctx.staffId}
          currentSessionId={ctx.sessionId}
        />
      ) : null}
      <div>
        <h2 className="mb-2 font-semibold">Security keys</h2>
        {manage ? (
          <KeysTable keys={keys} own={false} canUnlock />
        ) : (
          <ul className="text-sm">
            {detail.keys.map((k) => (
              <li key={k.id}>
                {k.nickname} ({k.revokedAt ? 'revoked' : k.lockedAt ? 'locked' : 'active'})
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
