import type { Metadata } from 'next';
import { EndContextButton } from '@/components/acting/end-context-button';
import { RotateKeyButton } from '@/components/acting/rotate-key-button';
import { can } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { listActingContexts } from '@/lib/services/acting/acting';
import { utc } from '@/lib/format';

export const metadata: Metadata = { title: 'Acting contexts' };

export default async function ActingPage() {
  const ctx = await requireStaffPage('acting.list');
  const contexts = await listActingContexts(ctx);
  const now = new Date();
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Acting contexts</h1>
      {can(ctx.role, 'keys.rotate') && <RotateKeyButton />}
      <table className="w-full border-collapse text-left text-sm">
        <thead className="border-b border-slate-200 text-slate-500">
          <tr>
            <th className="py-2 pr-3 font-medium">Staff</th>
            <th className="py-2 pr-3 font-medium">Organisation</th>
            <th className="py-2 pr-3 font-medium">Reason</th>
            <th className="py-2 pr-3 font-medium">Ticket</th>
            <th className="py-2 pr-3 font-medium">Started (UTC)</th>
            <th className="py-2 pr-3 font-medium">Ended (UTC)</th>
            <th className="py-2 pr-3 font-medium">How</th>
            <th className="py-2 font-medium">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {contexts.map((a) => {
            const open = !a.endedAt && a.expiresAt > now;
            return (
              <tr key={a.id} className="border-b border-slate-100" data-context-id={a.id}>
                <td className="py-2 pr-3">{a.staffEmail}</td>
                <td className="py-2 pr-3">{a.orgName}</td>
                <td className="py-2 pr-3">{a.reason}</td>
                <td className="py-2 pr-3 font-mono text-xs">{a.ticketRef}</td>
                <td className="py-2 pr-3">{utc(a.startedAt)}</td>
                <td className="py-2 pr-3">{utc(a.endedAt ?? (open ? null : a.expiresAt))}</td>
                <td className="py-2 pr-3">{open ? 'active' : (a.endReason ?? 'expired')}</td>
                <td className="py-2">
                  {open && can(ctx.role, 'acting.end_any') && <EndContextButton contextId={a.id} />}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
