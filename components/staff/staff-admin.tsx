'use client';

import { useState } from 'react';
import { apiPost } from '@/components/api';
import { RoleSelect } from '@/components/staff/role-select';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';
import type { StaffRole } from '@/lib/auth/roles';
import { utc } from '@/lib/format';
import { TableHead } from '@/components/ui/table-head';

export interface SessionRow {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  state: 'active' | 'revoked' | 'expired';
  ip: string | null;
  userAgent: string | null;
}

/** Role, status and sessions of one staff member, for a superadmin. */
export function StaffAdmin(props: {
  staff: { id: string; role: StaffRole; status: 'active' | 'disabled'; version: number };
  sessions: SessionRow[];
  self: boolean;
  /** The session this page is seen with: marked, and not revocable from here (sign out instead). */
  currentSessionId: string;
}) {
  const { act, busy, error, message, dialog } = useAction();
  const [role, setRole] = useState(props.staff.role);
  const current = error?.status === 409 ? (error.body.current as { role?: string } | undefined) : undefined;

  return (
    <div className="space-y-6">
      {dialog}
      <Feedback error={error} message={message} />
      {current && (
        <p className="text-sm text-slate-600">
          Current role: {current.role}. Reload to edit the current version.
        </p>
      )}
      {!props.self && (
        <div className="flex flex-wrap items-end gap-3">
          <RoleSelect id="role" value={role} onChange={setRole} />
          <Button
            disabled={busy || role === props.staff.role}
            onClick={() =>
              act('The role is changed.', () =>
                apiPost('/api/staff/role', { staffId: props.staff.id, role, version: props.staff.version }),
              )
            }
          >
            Change role
          </Button>
          <Button
            variant={props.staff.status === 'active' ? 'danger' : 'secondary'}
            disabled={busy}
            onClick={() => {
              const status = props.staff.status === 'active' ? 'disabled' : 'active';
              void act(
                status === 'disabled'
                  ? 'The account is disabled and its sessions ended.'
                  : 'The account is enabled.',
                () =>
                  apiPost('/api/staff/status', {
                    staffId: props.staff.id,
                    status,
                    version: props.staff.version,
                  }),
              );
            }}
          >
            {props.staff.status === 'active' ? 'Disable account' : 'Enable account'}
          </Button>
        </div>
      )}
      <div>
        <h2 className="mb-2 font-semibold">Sessions</h2>
        <table className="w-full border-collapse text-left text-sm">
          <TableHead
            columns={[
              'Started',
              'Last seen',
              'Address',
              'State',
              <span key="actions" className="sr-only">
                Actions
              </span>,
            ]}
          />
          <tbody>
            {props.sessions.map((s) => {
              const live = s.state === 'active';
              const mine = s.id === props.currentSessionId;
              return (
                <tr
                  key={s.id}
                  className={`border-b border-slate-100 ${mine ? 'bg-sky-50' : ''}`}
                  data-session-id={s.id}
                  data-current={mine || undefined}
                >
                  <td className="py-2 pr-4">{utc(s.createdAt)}</td>
                  <td className="py-2 pr-4">{utc(s.lastSeenAt)}</td>
                  <td className="py-2 pr-4">{s.ip ?? '—'}</td>
                  <td className="py-2 pr-4">
                    {s.state === 'revoked' ? 'Revoked' : live ? 'Active' : 'Expired'}
                    {mine && (
                      <span className="ml-2 rounded bg-sky-100 px-1.5 py-0.5 text-xs font-medium text-sky-900">
                        This session (you)
                      </span>
                    )}
                  </td>
                  <td className="py-2 text-right">
                    {live && mine && (
                      <span className="text-xs text-slate-600">
                        Your current session: sign out to end it.
                      </span>
                    )}
                    {live && !mine && (
                      <Button
                        variant="danger"
                        disabled={busy}
                        onClick={() =>
                          act('The session is revoked.', () =>
                            apiPost('/api/sessions/revoke', { sessionId: s.id }),
                          )
                        }
                      >
                        Revoke session
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
