'use client';

import { useState } from 'react';
import { ConflictNote, TextField } from '@/components/orgs/fields';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { INFERENCE_MODE_LABELS as LABELS, type InferenceMode } from '@/lib/plans';

/** The vendor-only switch of one Outpost's inference mode (superadmin): asks for a reason, then step-up. */
export function OutpostModeForm(props: {
  orgId: string;
  outpost: { id: string; name: string; inferenceMode: InferenceMode; version: number };
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const write = useOrgWrite(`/api/orgs/${props.orgId}/outposts/${props.outpost.id}/inference-mode`);
  const current = write.conflict as { inferenceMode: InferenceMode; version: number } | null | undefined;
  const target: InferenceMode = props.outpost.inferenceMode === 'gpu' ? 'cpu_trial' : 'gpu';
  const id = `outpost-reason-${props.outpost.id}`;

  if (!open) {
    return (
      <div className="space-y-1">
        <Button variant="secondary" onClick={() => setOpen(true)}>
          Switch {props.outpost.name} to {LABELS[target]}…
        </Button>
        <Feedback error={null} message={write.message} />
      </div>
    );
  }
  return (
    <form
      className="space-y-2"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const done = await write.submit(
          { inferenceMode: target, reason, version: current?.version ?? props.outpost.version },
          `${props.outpost.name} now runs in ${LABELS[target]} mode.`,
        );
        if (done) {
          setOpen(false);
          setReason('');
        }
      }}
    >
      {write.dialog}
      <TextField
        id={id}
        label={`Reason for switching ${props.outpost.name} to ${LABELS[target]}`}
        hint="at least 10 characters"
        autoFocus
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        error={write.error?.fields.reason}
      />
      {current !== undefined ? (
        <ConflictNote
          current={current && [['Inference mode', LABELS[current.inferenceMode]]]}
          none="The Outpost is gone."
        />
      ) : (
        <Feedback error={write.error} message={null} shown={['reason']} />
      )}
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={write.busy}>
          Switch to {LABELS[target]}
        </Button>
        <Button variant="secondary" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
