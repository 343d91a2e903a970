'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { useStepUp } from '@/components/auth/use-step-up';
import { Alert } from '@/components/ui/alert';
import { RoleSelect } from '@/components/staff/role-select';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { TextField } from '@/components/orgs/fields';
import type { StaffRole } from '@/lib/auth/roles';
import { utc } from '@/lib/format';

/** `ttl` says how long a link lives, e.g. `72 hours`. */
export function InviteForm({ ttl }: { ttl: string }) {
  const router = useRouter();
  const { run, dialog } = useStepUp();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<StaffRole>('support');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [link, setLink] = useState<{ url: string; email: string; expiresAt: string } | null>(null);
  // An admin or superadmin invitation needs a second person: the request waits on /approvals.
  const [pending, setPending] = useState<string | null>(null);

  async function onSubmit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setLink(null);
    setPending(null);
    try {
      const result = await run(() =>
        apiPost<{ url: string; email: string; expiresAt: string } | { approval: { message: string } }>(
          '/api/staff/invite',
          { email, role },
        ),
      );
      if ('approval' in result) setPending(result.approval.message);
      else setLink(result);
      setEmail('');
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
      {dialog}
      <h2 className="font-semibold">Invite a staff member</h2>
      <p className="text-sm text-slate-600">
        The link is single-use and expires after {ttl}. Creating one needs a fresh security-key check; an
        address can have one pending invitation at a time.
      </p>
      <div className="flex flex-wrap items-end gap-3">
        <TextField
          id="invite-email"
          label="E-mail"
          type="email"
          className="w-72"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={error?.fields.email}
        />
        <RoleSelect id="invite-role" value={role} onChange={setRole} />
        <Button type="submit" disabled={busy}>
          Create invitation
        </Button>
      </div>
      <Feedback error={error} message={null} shown={['email']} refused="Not created" />
      {pending && <Alert tone="info">{pending} Whoever approves it gets the one-time link to send.</Alert>}
      {link && (
        <Alert tone="success">
          <p>
            Send this one-time link to {link.email} over a trusted channel. It is shown only now and expires{' '}
            {utc(link.expiresAt)}.
          </p>
          <code data-testid="invite-link" className="mt-1 block break-all font-mono text-xs">
            {link.url}
          </code>
        </Alert>
      )}
    </form>
  );
}
