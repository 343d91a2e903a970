'use client';

import { useState } from 'react';
import { ConflictNote, TextField } from '@/components/orgs/fields';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';

/** The kill switch (superadmin): suspend with a reason, which the gateway and the banner show, or resume. */
export function SuspensionForm(props: {
  orgId: string;
  orgName: string;
  suspended: boolean;
  version: number;
}) {
  const [reason, setReason] = useState('');
  const write = useOrgWrite(`/api/orgs/${props.orgId}/suspension`);
  const current = write.conflict as
    { status: 'active' | 'suspended'; suspendedReason: string | null; version: number } | null | undefined;
  const suspend = !props.suspended;

  return (
    <form
      className="space-y-3"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const done = await write.submit(
          { suspended: suspend, reason, version: current?.version ?? props.version },
          suspend ? `${props.orgName} is suspended.` : `${props.orgName} is active again.`,
        );
        if (done) setReason('');
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
        <Feedback error={write.error} message={write.message} />
      )}
      <Button type="submit" variant={suspend ? 'danger' : 'primary'} disabled={write.busy}>
        {suspend ? 'Suspend organisation' : 'Resume organisation'}
      </Button>
    </form>
  );
}
