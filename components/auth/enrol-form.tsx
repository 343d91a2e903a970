'use client';

import { startRegistration } from '@simplewebauthn/browser';
import { useState } from 'react';
import { ApiError, apiPost, ceremonyMessage } from '@/components/api';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';

type Options = Parameters<typeof startRegistration>[0]['optionsJSON'];

export function EnrolForm({ token, email }: { token: string; email: string }) {
  const [displayName, setDisplayName] = useState('');
  const [nickname, setNickname] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [done, setDone] = useState(false);

  async function onSubmit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const optionsJSON = await apiPost<Options>('/api/enroll/options', { token, displayName });
      const response = await startRegistration({ optionsJSON });
      await apiPost('/api/enroll/verify', { token, displayName, nickname, response });
      setDone(true);
    } catch (err) {
      if (err instanceof ApiError) setFields(err.fields);
      setError(ceremonyMessage(err));
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <div className="mt-6 space-y-4">
        <Alert tone="success">Your security key is registered and your account ({email}) is ready.</Alert>
        {/* A full page load, as before: the rule only fires since (portal)/[...missing] catches every path. */}
        {/* eslint-disable-next-line @next/next/no-html-link-for-pages */}
        <a
          href="/login"
          className="block rounded-md bg-slate-900 px-3 py-2 text-center text-sm font-medium text-white"
        >
          Sign in now
        </a>
      </div>
    );
  }
  return (
    <form onSubmit={onSubmit} className="mt-6 space-y-4" noValidate>
      <Field
        id="displayName"
        label="Your name"
        value={displayName}
        onChange={setDisplayName}
        error={fields.displayName}
        autoComplete="name"
      />
      <Field
        id="nickname"
        label="Name for this key"
        value={nickname}
        onChange={setNickname}
        error={fields.nickname}
        help='For example "YubiKey 5C on my keyring". You can add a second key later.'
      />
      {error && <Alert tone="error">{error}</Alert>}
      <Button type="submit" disabled={busy} className="w-full">
        {busy ? 'Waiting for your security key…' : 'Register security key'}
      </Button>
    </form>
  );
}

function Field(props: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  help?: string;
  autoComplete?: string;
}) {
  return (
    <div>
      <label htmlFor={props.id} className="block text-sm font-medium text-slate-700">
        {props.label}
      </label>
      <input
        id={props.id}
        value={props.value}
        autoComplete={props.autoComplete ?? 'off'}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${props.id}-error` : props.help ? `${props.id}-help` : undefined}
        className="mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-sky-500 aria-invalid:border-red-500"
      />
      {props.error ? (
        <p id={`${props.id}-error`} className="mt-1 text-xs text-red-700">
          {props.error}
        </p>
      ) : (
        props.help && (
          <p id={`${props.id}-help`} className="mt-1 text-xs text-slate-500">
            {props.help}
          </p>
        )
      )}
    </div>
  );
}
