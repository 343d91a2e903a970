'use client';

import { apiPost } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';
import { utc } from '@/lib/format';
import { EmptyState } from '@/components/ui/empty-state';

export interface PendingInvite {
  id: string;
  email: string;
  role: string;
  createdAt: string;
  expiresAt: string;
}

/** Invitations whose link still works, each with a button that withdraws it. */
export function PendingInvites({ invites, canRevoke }: { invites: PendingInvite[]; canRevoke: boolean }) {
  const { act, busy, error, message, dialog } = useAction();
  return (
    <div className="space-y-2">
      {dialog}
      <h2 className="font-semibold">Pending invitations</h2>
      <Feedback error={error} message={message} />
      {invites.length === 0 ? (
        <EmptyState compact>No pending invitations.</EmptyState>
      ) : (
        <table aria-label="Pending invitations" className="w-full border-collapse text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-500">
            <tr>
              <th className="py-2 pr-4 font-medium">E-mail</th>
              <th className="py-2 pr-4 font-medium">Role</th>
              <th className="py-2 pr-4 font-medium">Created</th>
              <th className="py-2 pr-4 font-medium">Expires</th>
              {canRevoke && (
                <th className="py-2 font-medium">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {invites.map((i) => (
              <tr key={i.id} className="border-b border-slate-100">
                <td className="py-2 pr-4">{i.email}</td>
                <td className="py-2 pr-4">{i.role}</td>
                <td className="py-2 pr-4">{utc(i.createdAt)}</td>
                <td className="py-2 pr-4">{utc(i.expiresAt)}</td>
                {canRevoke && (
                  <td className="py-2">
                    <Button
                      variant="danger"
                      disabled={busy}
                      aria-label={`Revoke the invitation for ${i.email}`}
                      onClick={() =>
                        act(`The invitation for ${i.email} is revoked.`, () =>
                          apiPost('/api/staff/invite/revoke', { inviteId: i.id }),
                        )
                      }
                    >
                      Revoke
                    </Button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
