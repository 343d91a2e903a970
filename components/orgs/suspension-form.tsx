'use client';

import { useState } from 'react';
import { ConflictNote, SlugConfirmField, TextField } from '@/components/orgs/fields';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';

/**
 * The kill switch (superadmin), in the organisation page's danger zone: suspending needs a reason (the
 * gateway and the banner show it), the organisation's slug typed to confirm, and always a fresh key touch
 * whose dialog names the action and the organisation. The server applies its own step-up rule as well.
 * Resuming unblocks, so it needs the reason and the server's step-up rule only.
 */
export function SuspensionForm(props: {
  orgId: string;
  orgName: string;
  orgSlug: string;
  suspended: boolean;
  version: number;
}) {
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  const write = useOrgWrite(`/api/orgs/${props.orgId}/suspension`);
  const current = write.conflict as
    { status: 'active' | 'suspended'; suspendedReason: string | null; version: number } | null | undefined;
  const suspend = !props.suspended;
  const confirmed = !suspend || typed.trim() === props.orgSlug;

  return (
    <form
      className="space-y-3"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        if (!confirmed) return;
        const done = await write.submit(
          { suspended: suspend, reason, version: current?.version ?? props.version },
          suspend ? `${props.orgName} is suspended.` : `${props.orgName} is active again.`,
          suspend
            ? {
                always: true,
                what: { action: 'Suspend organisation', target: `${props.orgName} (${props.orgSlug})` },
              }
            : { what: { action: 'Resume organisation', target: `${props.orgName} (${props.orgSlug})` } },
        );
        if (done) {
          setReason('');
          setTyped('');
        }
      }}
    >
      {write.dialog}
      <TextField
        id="suspension-reason"
        label={suspend ? 'Reason for suspending' : 'Reason for resuming'}
        hint={
          suspend ? 'shown on the organisation’s pages; at least 10 characters' : 'at least 10 characters'
        }
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        error={write.error?.fields.reason ?? write.error?.fields.suspended}
      />
      {suspend && (
        <SlugConfirmField id="suspension-confirm" slug={props.orgSlug} value={typed} onChange={setTyped} />
      )}
      {current !== undefined ? (
        <ConflictNote
          current={
            current && [
              ['Status', current.status],
              ['Reason', current.suspendedReason ?? '—'],
            ]
          }
          none="The organisation is gone."
        />
      ) : (
        <Feedback error={write.error} message={write.message} shown={['reason', 'suspended']} />
      )}
      <div className="flex flex-wrap items-center gap-3">
        <Button
          type="submit"
          variant={suspend ? 'danger' : 'primary'}
          disabled={write.busy || !confirmed}
          aria-describedby={suspend ? 'suspension-why' : undefined}
        >
          {suspend ? 'Suspend organisation' : 'Resume organisation'}
        </Button>
        {suspend && (
          <p id="suspension-why" className="text-xs text-slate-600">
            {confirmed
              ? 'Your security key is asked for next, whenever you last used it.'
              : 'Enabled once the slug is typed exactly.'}
          </p>
        )}
      </div>
    </form>
  );
}
