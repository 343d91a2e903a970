'use client';

import { startAuthentication } from '@simplewebauthn/browser';
import { type ReactNode, useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';

type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];

/**
 * Runs a sensitive request; when the server answers `step_up_required`, asks for a fresh security-key
 * check in a dialog and then sends the request again, once. `dialog` must be rendered by the caller.
 */
export function useStepUp(): { run: <T>(request: () => Promise<T>) => Promise<T>; dialog: ReactNode } {
  const [pending, setPending] = useState<{ resolve: () => void; reject: (e: unknown) => void } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'step_up_required')) throw err;
      await new Promise<void>((resolve, reject) => {
        setError(null);
        setPending({ resolve, reject });
      });
      return request();
    }
  }

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      const optionsJSON = await apiPost<Options>('/api/step-up/options');
      const response = await startAuthentication({ optionsJSON });
      await apiPost('/api/step-up/verify', response);
      pending?.resolve();
      setPending(null);
    } catch (err) {
      setError(ceremonyMessage(err));
    } finally {
      setBusy(false);
    }
  }

  function cancel() {
    pending?.reject(new ApiError(403, 'step_up_cancelled', 'Cancelled: the change was not made.', {}));
    setPending(null);
  }

  const dialog = pending ? (
    <div className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/40 p-4">
      <div
        role="dialog"
        aria-modal="true"
        aria-labelledby="step-up-title"
        className="w-full max-w-sm rounded-lg bg-white p-6 shadow-xl"
        onKeyDown={(e) => e.key === 'Escape' && cancel()}
      >
        <h2 id="step-up-title" className="text-lg font-semibold">
          Confirm with your security key
        </h2>
        <p className="mt-2 text-sm text-slate-600">
          This change is sensitive. Touch your security key and enter its PIN to confirm it is you.
        </p>
        {error && (
          <div className="mt-3">
            <Alert tone="error">{error}</Alert>
          </div>
        )}
        <div className="mt-5 flex justify-end gap-2">
          <Button variant="secondary" onClick={cancel} disabled={busy}>
            Cancel
          </Button>
          <Button autoFocus onClick={confirm} disabled={busy}>
            {busy ? 'Waiting for your key…' : 'Use security key'}
          </Button>
        </div>
      </div>
    </div>
  ) : null;

  return { run, dialog };
}
