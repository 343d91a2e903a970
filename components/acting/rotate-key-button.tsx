'use client';

import { apiPost } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';

/** Superadmin: a new signing key for platform tokens (step-up); the old one stays published until its tokens expire. */
export function RotateKeyButton() {
  const { act, busy, error, message, dialog } = useAction();
  return (
    <div className="space-y-2">
      {dialog}
      <Button
        variant="secondary"
        disabled={busy}
        onClick={() =>
          void act(
            'A new signing key is in use. Tokens signed with the old one stay valid until they expire.',
            () => apiPost('/api/platform-tokens/rotate'),
          )
        }
      >
        Rotate the platform-token signing key
      </Button>
      <Feedback error={error} message={message} />
    </div>
  );
}
