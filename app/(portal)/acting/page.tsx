import type { Metadata } from 'next';
import Link from 'next/link';
import { EndContextButton } from '@/components/acting/end-context-button';
import { RotateKeyButton } from '@/components/acting/rotate-key-button';
import { EmptyState } from '@/components/ui/empty-state';
import { can } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { listActingContexts } from '@/lib/services/acting/acting';
import { utc } from '@/lib/format';
import { TableFrame } from '@/components/ui/table-frame';
import { TableHead } from '@/components/ui/table-head';

export const metadata: Metadata = { title: 'Acting contexts' };

export default async function ActingPage() {
  const ctx = await requireStaffPage('acting.list');
  const contexts = await listActingContexts(ctx);
  const now = new Date();
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Acting contexts</h1>
      {can(ctx.role, 'keys.rotate') && <RotateKeyButton />}
      {contexts.length === 0 ? (
        <EmptyState hint="A context starts from an organisation's page, with a reason and a ticket.">
          No one has acted for an organisation yet.
        </EmptyState>
      ) : (
        <TableFrame>
          <table className="w-full border-collapse text-left text-sm">
            <caption className="sr-only">Acting contexts, newest first</caption>
            <TableHead
              framed
              columns={[
                'Staff',
                'Organisation',
                'Reason',
                'Ticket',
                'Started (UTC)',
                'Expires (UTC)',
                'Ended (UTC)',
                'How',
                <span key="actions" className="sr-only">
                  Actions
                </span>,
              ]}
            />
            <tbody>
              {contexts.map((a) => {
                const open = !a.endedAt && a.expiresAt > now;
                return (
                  <tr key={a.id} className="border-b border-slate-100" data-context-id={a.id}>
                    <td className="py-2 pr-3 pl-4 whitespace-nowrap">{a.staffEmail}</td>
                    <td className="py-2 pr-3 whitespace-nowrap">
                      <Link href={`/orgs/${a.orgId}`} className="text-sky-700 hover:underline">
                        {a.orgName}
                      </Link>
                    </td>
                    <td className="py-2 pr-3">{a.reason}</td>
                    <td className="py-2 pr-3 font-mono text-xs whitespace-nowrap">{a.ticketRef}</td>
                    <td className="py-2 pr-3 whitespace-nowrap tabular-nums">{utc(a.startedAt)}</td>
                    <td className="py-2 pr-3 whitespace-nowrap tabular-nums" data-expires>
                      {utc(a.expiresAt)}
                    </td>
                    <td className="py-2 pr-3 whitespace-nowrap tabular-nums">
                      {utc(a.endedAt ?? (open ? null : a.expiresAt))}
                    </td>
                    <td className="py-2 pr-3 whitespace-nowrap">
                      {open ? 'active' : (a.endReason ?? 'expired')}
                    </td>
                    <td className="py-2 pr-4">
                      {open && can(ctx.role, 'acting.end_any') && <EndContextButton contextId={a.id} />}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableFrame>
      )}
    </section>
  );
}
