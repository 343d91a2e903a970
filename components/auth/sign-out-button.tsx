'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { apiPost } from '@/components/api';
import { Button } from '@/components/ui/button';

export function SignOutButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  return (
    <Button
      variant="secondary"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        // Whatever the answer, the cookie is gone or useless: go to the sign-in page.
        await apiPost('/api/session/sign-out').catch(() => {});
        router.replace('/login');
        router.refresh();
      }}
    >
      Sign out
    </Button>
  );
}
