import type { Metadata } from 'next';
import Link from 'next/link';
import { InviteForm } from '@/components/staff/invite-form';
import { PendingInvites } from '@/components/staff/pending-invites';
import { can } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { config } from '@/lib/config';
import { duration, utc } from '@/lib/format';
import { listPendingInvites, listStaff } from '@/lib/queries/staff';
import { TableHead } from '@/components/ui/table-head';

export const metadata: Metadata = { title: 'Staff' };

export default async function StaffPage() {
  const ctx = await requireStaffPage('staff.read');
  const [staff, invites] = await Promise.all([listStaff(ctx), listPendingInvites(ctx)]);
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Staff</h1>
      {can(ctx.role, 'staff.manage') && <InviteForm ttl={duration(config().INVITE_TTL_S)} />}
      <PendingInvites
        canRevoke={can(ctx.role, 'staff.manage')}
        invites={invites.map((i) => ({
          ...i,
          createdAt: i.createdAt.toISOString(),
          expiresAt: i.expiresAt.toISOString(),
        }))}
      />
      <table aria-label="Staff members" className="w-full border-collapse text-left text-sm">
        <TableHead columns={['Name', 'E-mail', 'Role', 'Status', 'Keys', 'Last sign-in']} />
        <tbody>
          {staff.map((s) => (
            <tr key={s.id} className="border-b border-slate-100">
              <td className="py-2 pr-4">
                <Link href={`/staff/${s.id}`} className="text-sky-700 hover:underline">
                  {s.displayName}
                </Link>
              </td>
              <td className="py-2 pr-4">{s.email}</td>
              <td className="py-2 pr-4">{s.role}</td>
              <td className="py-2 pr-4">{s.status}</td>
              <td className="py-2 pr-4">{s.keys}</td>
              <td className="py-2">{utc(s.lastSignIn)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
