'use client';

import { useState } from 'react';
import { apiPost } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';

const GENERATE = '';

/**
 * Superadmin, with step-up: makes a staged key the active one. The operator stages keys in the secret;
 * the embedded mode can also generate one.
 */
export function RotateKeyForm({
  kind,
  staged,
  generates,
}: {
  kind: 'hmac' | 'checkpoint';
  staged: string[];
  generates: boolean;
}) {
  const { act, busy, error, message, dialog } = useAction();
  const [keyId, setKeyId] = useState(staged[0] ?? GENERATE);
  const label = kind === 'hmac' ? 'HMAC key' : 'checkpoint signing key';
  const id = `rotate-${kind}`;
  // A rotation to the last staged key leaves none: the confirmation must outlive the form it came from.
  if (!generates && staged.length === 0) {
    return (
      <div>
        <p className="text-sm text-slate-600">
          No staged key to rotate to. The operator adds a new key to the secret first (docs/AUDIT.md); it then
          appears here.
        </p>
        <Feedback error={error} message={message} />
      </div>
    );
  }
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        void act(`The ${label} is rotated.`, () =>
          apiPost(`/api/audit/keys/${kind}`, keyId === GENERATE ? {} : { keyId }),
        );
      }}
    >
      {dialog}
      <div>
        <label htmlFor={id} className="block text-sm font-medium text-slate-700">
          New {label}
        </label>
        <select
          id={id}
          value={keyId}
          onChange={(e) => setKeyId(e.target.value)}
          className="mt-1 rounded-md border border-slate-300 px-2 py-1.5 text-sm"
        >
          {staged.map((k) => (
            <option key={k} value={k}>
              {k} (staged)
            </option>
          ))}
          {generates && <option value={GENERATE}>a new generated key</option>}
        </select>
      </div>
      <Button type="submit" disabled={busy}>
        Rotate the {label}
      </Button>
      <div className="w-full">
        <Feedback error={error} message={message} />
      </div>
    </form>
  );
}
