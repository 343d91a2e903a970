'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { useStepUp } from '@/components/auth/use-step-up';

/**
 * One org-scoped write from a form: step-up when the server asks, field errors, and on 409 the server's
 * current values so the form can show them next to what the user typed (nothing typed is lost).
 */
export function useOrgWrite<T = unknown>(url: string) {
  const router = useRouter();
  const { run, dialog } = useStepUp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function submit(body: unknown, done: string): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const result = await run(() => apiPost<T>(url, body));
      setMessage(done);
      router.refresh();
      return result;
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', ceremonyMessage(err), {}));
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  return { submit, busy, error, message, dialog };
}
