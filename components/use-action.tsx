'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ApiError, ceremonyMessage } from '@/components/api';
import { type StepUpOptions, useStepUp } from '@/components/auth/use-step-up';

/**
 * One write from the browser: step-up when the server asks for it, then a refresh of the page's server
 * data. `done` is the message shown on success, or makes it from the server's answer. `error` keeps the
 * server's answer (code, field errors, and on 409 the current values). Render `dialog` somewhere in the
 * component.
 */
export function useAction() {
  const router = useRouter();
  const { run, dialog } = useStepUp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function act<T>(
    done: string | ((result: T) => string),
    request: () => Promise<T>,
    options?: StepUpOptions,
  ): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const result = await run(request, options);
      // A dual-controlled write answers with a stored request (202): say that, not that it is done.
      setMessage(approvalMessage(result) ?? (typeof done === 'string' ? done : done(result)));
      router.refresh();
      return result;
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', ceremonyMessage(err), {}));
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  return { act, busy, error, message, dialog };
}

function approvalMessage(result: unknown): string | null {
  if (!result || typeof result !== 'object' || !('approval' in result)) return null;
  const { approval } = result as { approval: { message?: unknown } };
  return typeof approval.message === 'string' ? approval.message : null;
}
