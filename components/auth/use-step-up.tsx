'use client';

import { startAuthentication } from '@simplewebauthn/browser';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';

type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];

/** What the step-up dialog names: the action (`Suspend organisation`) and what it acts on. */
export interface StepUpFor {
  action: string;
  target: string;
}

export interface StepUpOptions {
  /** Named in the dialog, so the key touch confirms this action on this target and nothing else. */
  what?: StepUpFor;
  /**
   * Ask for a key touch before the request, even when the last one is recent (the kill switch, writes
   * that block an organisation). The server still applies its own step-up rule to the request.
   */
  always?: boolean;
}

/**
 * Runs a sensitive request; when the server answers `step_up_required`, asks for a fresh security-key
 * check in a dialog and then sends the request again, once. With `always`, asks first. `dialog` must be
 * rendered by the caller.
 */
export function useStepUp(): {
  run: <T>(request: () => Promise<T>, options?: StepUpOptions) => Promise<T>;
  dialog: ReactNode;
} {
  const [pending, setPending] = useState<{
    resolve: () => void;
    reject: (e: unknown) => void;
    what?: StepUpFor;
  } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDialogElement>(null);

  // A modal <dialog>: the browser keeps focus inside it, makes the page behind it inert, and gives focus
  // back to the button that opened it when it closes.
  useEffect(() => {
    const dialog = ref.current;
    if (!pending || !dialog || dialog.open) return;
    dialog.showModal();
    dialog.querySelector<HTMLButtonElement>('[data-primary]')?.focus();
  }, [pending]);

  function close() {
    ref.current?.close();
    setPending(null);
  }

  function keyTouch(what?: StepUpFor): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      setError(null);
      setPending({ resolve, reject, what });
    });
  }

  async function run<T>(request: () => Promise<T>, options: StepUpOptions = {}): Promise<T> {
    if (options.always) await keyTouch(options.what);
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'step_up_required')) throw err;
      await keyTouch(options.what);
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
      close();
    } catch (err) {
      setError(ceremonyMessage(err));
    } finally {
      setBusy(false);
    }
  }

  function cancel() {
    pending?.reject(new ApiError(403, 'step_up_cancelled', 'Cancelled: the change was not made.', {}));
    close();
  }

  const dialog = pending ? (
    <dialog
      ref={ref}
      aria-labelledby="step-up-title"
      aria-describedby={pending.what ? 'step-up-what' : undefined}
      className="m-auto w-full max-w-sm rounded-lg bg-white p-6 shadow-xl backdrop:bg-slate-900/40"
      // Escape: cancel the change, unless the key is being asked already.
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) cancel();
      }}
    >
      <h2 id="step-up-title" className="text-lg font-semibold">
        Confirm with your security key
      </h2>
      {pending.what && (
        <dl
          id="step-up-what"
          className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 text-sm"
          data-testid="step-up-what"
        >
          <dt className="text-slate-600">Action</dt>
          <dd className="font-medium">{pending.what.action}</dd>
          <dt className="text-slate-600">Organisation</dt>
          <dd className="font-medium">{pending.what.target}</dd>
        </dl>
      )}
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
        <Button data-primary onClick={confirm} disabled={busy}>
          {busy ? 'Waiting for your key…' : 'Use security key'}
        </Button>
      </div>
    </dialog>
  ) : null;

  return { run, dialog };
}
