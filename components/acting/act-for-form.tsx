'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { refreshSession } from '@/components/acting/refresh-session';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';

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
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});

  async function onSubmit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
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
      if (err instanceof ApiError) setFields(err.fields);
      setError(ceremonyMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const input =
    'mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm placeholder:text-slate-500 aria-invalid:border-red-500';
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
      <div>
        <label htmlFor="acting-reason" className="block text-sm font-medium text-slate-700">
          Reason
        </label>
        <input
          id="acting-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={fields.reason ? true : undefined}
          className={input}
        />
        {fields.reason && <p className="mt-1 text-xs text-red-700">{fields.reason}</p>}
      </div>
      <div className="flex gap-3">
        <div className="flex-1">
          <label htmlFor="acting-ticket" className="block text-sm font-medium text-slate-700">
            Ticket reference
          </label>
          <input
            id="acting-ticket"
            value={ticketRef}
            placeholder="SUP-1234"
            onChange={(e) => setTicketRef(e.target.value)}
            aria-invalid={fields.ticketRef ? true : undefined}
            className={input}
          />
          {fields.ticketRef && <p className="mt-1 text-xs text-red-700">{fields.ticketRef}</p>}
        </div>
        <div className="w-40">
          <label htmlFor="acting-minutes" className="block text-sm font-medium text-slate-700">
            Minutes (at most {props.maxMinutes})
          </label>
          <input
            id="acting-minutes"
            type="number"
            min={1}
            max={props.maxMinutes}
            value={minutes}
            onChange={(e) => setMinutes(e.target.value)}
            aria-invalid={fields.durationMinutes ? true : undefined}
            className={input}
          />
          {fields.durationMinutes && <p className="mt-1 text-xs text-red-700">{fields.durationMinutes}</p>}
        </div>
      </div>
      {error && <Alert tone="error">{error}</Alert>}
      <Button type="submit" disabled={busy}>
        Start acting for {props.orgName}
      </Button>
    </form>
  );
}
