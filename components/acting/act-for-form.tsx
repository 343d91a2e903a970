'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { refreshSession } from '@/components/acting/refresh-session';
import { TextField } from '@/components/orgs/fields';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';

export function ActForForm(props: {
  orgId: string;
  orgName: string;
  defaultMinutes: number;
  maxMinutes: number;
}) {
  const router = useRouter();
  const [reason, setReason] = useState('');
  const [ticketRef, setTicketRef] = useState('');
  const [minutes, setMinutes] = useState(String(props.defaultMinutes));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function onSubmit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await apiPost('/api/acting/start', {
        orgId: props.orgId,
        reason,
        ticketRef,
        durationMinutes: Number(minutes),
      });
      await refreshSession();
      router.refresh();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', ceremonyMessage(err), {}));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      onSubmit={onSubmit}
      className="space-y-3 rounded-lg border border-slate-200 bg-white p-4"
      noValidate
    >
      <h2 className="font-semibold">Act for {props.orgName}</h2>
      <p className="text-sm text-slate-600">
        Changes to this organisation are made inside an acting context. Your own identity stays in charge, and
        both are recorded on every action.
      </p>
      <TextField
        id="acting-reason"
        label="Reason"
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        error={error?.fields.reason}
      />
      <div className="flex gap-3">
        <TextField
          id="acting-ticket"
          className="flex-1"
          label="Ticket reference"
          placeholder="SUP-1234"
          value={ticketRef}
          onChange={(e) => setTicketRef(e.target.value)}
          error={error?.fields.ticketRef}
        />
        <TextField
          id="acting-minutes"
          className="w-40"
          label={`Minutes (at most ${props.maxMinutes})`}
          type="number"
          min={1}
          max={props.maxMinutes}
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
          error={error?.fields.durationMinutes}
        />
      </div>
      <Feedback
        error={error}
        message={null}
        shown={['reason', 'ticketRef', 'durationMinutes']}
        refused="Not started"
      />
      <Button type="submit" disabled={busy}>
        Start acting for {props.orgName}
      </Button>
    </form>
  );
}
