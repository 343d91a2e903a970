'use client';

import { useState } from 'react';
import { apiPost } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';
import { useReportOutcome } from './outcome';

interface May {
  approve: boolean;
  reject: boolean;
  withdraw: boolean;
  breakGlass: boolean;
  review: boolean;
}

/**
 * What the viewer may do with one request: approve (a fresh key check, then the write runs as theirs),
 * reject with a reason, withdraw their own, break the glass on their own (superadmin), or review a
 * break-glass someone else executed. The server checks each again.
 */
export function RequestActions({ id, summary, may }: { id: string; summary: string; may: May }) {
  const { act, busy, error, dialog } = useAction();
  const [open, setOpen] = useState<'reject' | 'breakGlass' | null>(null);
  const [reason, setReason] = useState('');
  const [ticketRef, setTicketRef] = useState('');
  // Success is reported above the list (OutcomeProvider): the page's refresh takes a decided request out of
  // the list, and this component with it. An approved invitation's one-time link goes there too.
  const report = useReportOutcome();
  const done = (message: string) => () => {
    report({ message });
    return message;
  };
  const applied = (what: string) => (answer: { result?: unknown }) => {
    const url = (answer.result as { url?: unknown } | undefined)?.url;
    const link = typeof url === 'string' ? url : null;
    const message = `${what}: ${summary}.${link ? ' Send the link below to the invitee over a trusted channel.' : ''}`;
    report({ message, link });
    return message;
  };
  const post =
    (verb: string, body: object = {}) =>
    () =>
      apiPost<{ result?: unknown }>(`/api/approvals/${id}/${verb}`, body);
  if (!Object.values(may).some(Boolean)) return null;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        {may.approve && (
          <Button disabled={busy} onClick={() => act(applied('Approved and applied'), post('approve'))}>
            Approve and apply
          </Button>
        )}
        {may.reject && (
          <Button
            variant="secondary"
            disabled={busy}
            onClick={() => setOpen(open === 'reject' ? null : 'reject')}
          >
            Reject…
          </Button>
        )}
        {may.withdraw && (
          <Button
            variant="secondary"
            disabled={busy}
            onClick={() => act(done('Withdrawn: nothing was changed.'), post('withdraw'))}
          >
            Withdraw
          </Button>
        )}
        {may.breakGlass && (
          <Button
            variant="danger"
            disabled={busy}
            onClick={() => setOpen(open === 'breakGlass' ? null : 'breakGlass')}
          >
            Break glass…
          </Button>
        )}
        {may.review && (
          <Button
            disabled={busy}
            onClick={() =>
              act(done('Reviewed: the break-glass is marked as checked by you.'), post('review'))
            }
          >
            Mark break-glass as reviewed
          </Button>
        )}
      </div>
      {open && (
        <form
          className="space-y-2 rounded-md border border-slate-200 bg-slate-50 p-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (open === 'reject')
              void act(done('Rejected: nothing was changed.'), post('reject', { reason }));
            else
              void act(
                applied('Applied under break-glass (another superadmin must review it)'),
                post('break-glass', { reason, ticketRef }),
              );
          }}
        >
          {open === 'breakGlass' && (
            <p className="text-sm text-red-800">
              Break-glass applies this change without a second person. It is flagged in the audit log and the
              SIEM export (severity high) and stays on this page until another superadmin reviews it.
            </p>
          )}
          <label className="block text-sm font-medium text-slate-700" htmlFor={`reason-${id}`}>
            {open === 'reject' ? 'Why you reject it' : 'Why this cannot wait (at least 20 characters)'}
          </label>
          <textarea
            id={`reason-${id}`}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            rows={2}
            className="w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
            aria-invalid={!!error?.fields.reason}
          />
          {error?.fields.reason && <p className="text-xs text-red-700">{error.fields.reason}</p>}
          {open === 'breakGlass' && (
            <>
              <label className="block text-sm font-medium text-slate-700" htmlFor={`ticket-${id}`}>
                Incident ticket
              </label>
              <input
                id={`ticket-${id}`}
                value={ticketRef}
                onChange={(e) => setTicketRef(e.target.value)}
                className="w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
                aria-invalid={!!error?.fields.ticketRef}
              />
              {error?.fields.ticketRef && <p className="text-xs text-red-700">{error.fields.ticketRef}</p>}
            </>
          )}
          <Button type="submit" variant={open === 'breakGlass' ? 'danger' : 'primary'} disabled={busy}>
            {open === 'reject' ? 'Reject request' : 'Apply without a second person'}
          </Button>
        </form>
      )}
      {/* Errors here, next to the request, which stays; success above the list (OutcomeProvider). */}
      <Feedback error={error} message={null} />
      {dialog}
    </div>
  );
}
