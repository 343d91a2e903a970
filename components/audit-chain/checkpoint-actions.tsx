'use client';

import { apiPost } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';
import { num } from '@/lib/format';

/** "Sign a checkpoint now": the head as it is, signed and stored (audited). */
export function SignCheckpointButton() {
  const { act, busy, error, message, dialog } = useAction();
  return (
    <div className="space-y-2">
      {dialog}
      <Button
        disabled={busy}
        onClick={() =>
          void act(
            (c) => `A checkpoint of the current head, seq ${num(c.seq)}, is signed and stored.`,
            () => apiPost<{ seq: number }>('/api/audit/checkpoints'),
          )
        }
      >
        Sign a checkpoint now
      </Button>
      <Feedback error={error} message={message} />
    </div>
  );
}
