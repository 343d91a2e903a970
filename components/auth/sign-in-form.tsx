'use client';

import { startAuthentication } from '@simplewebauthn/browser';
import { signIn } from 'next-auth/react';
import { useState } from 'react';
import { apiPost, ceremonyMessage } from '@/components/api';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { safeNext } from '@/lib/safe-next';

type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];

export function SignInForm({ next }: { next: string | null }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const optionsJSON = await apiPost<Options>('/api/auth/webauthn/options', {});
      const response = await startAuthentication({ optionsJSON });
      const result = await signIn('webauthn', { response: JSON.stringify(response), redirect: false });
      if (!result || result.error) throw new Error(result?.error ?? 'Sign-in failed.');
      window.location.assign(safeNext(next, window.location.origin));
    } catch (err) {
      setError(ceremonyMessage(err));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="mt-6 space-y-4" noValidate>
      {error && <Alert tone="error">{error}</Alert>}
      <Button type="submit" disabled={busy} className="w-full">
        {busy ? 'Waiting for your security key…' : 'Sign in with security key'}
      </Button>
    </form>
  );
}
