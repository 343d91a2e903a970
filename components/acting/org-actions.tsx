'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { apiPost, ceremonyMessage } from '@/components/api';
import { useStepUp } from '@/components/auth/use-step-up';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import type { PlatformScope } from '@/lib/auth/permissions';
import { utc } from '@/lib/format';

const SCOPE_WORDS: Record<PlatformScope, string> = {
  'org:read': 'org:read — read the organisation’s configuration',
  'org:admin': 'org:admin — change it (asks for a fresh key touch)',
};

/**
 * Inside an acting context: add a support note, and mint a platform token (shown once) with a scope the
 * role may mint (`scopes`, from the permission matrix; empty: no minting).
 */
export function OrgActions(props: {
  orgId: string;
  portalUrl: string;
  canNote: boolean;
  scopes: readonly PlatformScope[];
}) {
  const router = useRouter();
  const stepUp = useStepUp();
  const [scope, setScope] = useState<PlatformScope>(props.scopes[0] ?? 'org:read');
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);
  const [token, setToken] = useState<{
    token: string;
    jti: string;
    expiresAt: string;
    audience: string;
  } | null>(null);

  async function addNote(event: React.FormEvent) {
    event.preventDefault();
    setMessage(null);
    try {
      await apiPost(`/api/orgs/${props.orgId}/notes`, { body: note });
      setNote('');
      setMessage({ tone: 'success', text: 'Note added.' });
      router.refresh();
    } catch (err) {
      setMessage({ tone: 'error', text: ceremonyMessage(err) });
    }
  }

  async function mint() {
    setMessage(null);
    try {
      setToken(await stepUp.run(() => apiPost('/api/platform-tokens', { scope })));
    } catch (err) {
      setMessage({ tone: 'error', text: ceremonyMessage(err) });
    }
  }

  return (
    <div className="space-y-4">
      {message && <Alert tone={message.tone}>{message.text}</Alert>}
      {props.canNote && (
        <form onSubmit={addNote} className="flex items-end gap-2">
          <div className="flex-1">
            <label htmlFor="note" className="block text-sm font-medium text-slate-700">
              Support note
            </label>
            <textarea
              id="note"
              value={note}
              onChange={(e) => setNote(e.target.value)}
              rows={2}
              className="mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
            />
          </div>
          <Button type="submit">Add note</Button>
        </form>
      )}
      {stepUp.dialog}
      {props.scopes.length > 0 && (
        <div className="space-y-2">
          <div className="flex flex-wrap items-end gap-2">
            <div>
              <label htmlFor="token-scope" className="block text-sm font-medium text-slate-700">
                Token scope
              </label>
              <select
                id="token-scope"
                value={scope}
                onChange={(e) => setScope(e.target.value as PlatformScope)}
                className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
              >
                {props.scopes.map((s) => (
                  <option key={s} value={s}>
                    {SCOPE_WORDS[s]}
                  </option>
                ))}
              </select>
            </div>
            <Button variant="secondary" onClick={mint}>
              Mint platform token
            </Button>
          </div>
          {token && (
            <Alert tone="success">
              <p>
                Shown once. It expires {utc(token.expiresAt)} (jti {token.jti}).
              </p>
              <code data-testid="platform-token" className="mt-1 block break-all font-mono text-xs">
                {token.token}
              </code>
              <div className="mt-2 flex gap-2">
                <Button variant="secondary" onClick={() => navigator.clipboard.writeText(token.token)}>
                  Copy token
                </Button>
              </div>
              <p className="mt-2 font-mono text-xs break-all">
                curl -H &quot;Authorization: Bearer $TOKEN&quot; {token.audience}/v1/org
              </p>
              <p className="mt-1 text-xs">Verify with the keys at {props.portalUrl}/.well-known/jwks.json</p>
            </Alert>
          )}
        </div>
      )}
    </div>
  );
}
