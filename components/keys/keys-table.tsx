'use client';

import { startRegistration } from '@simplewebauthn/browser';
import { useState } from 'react';
import { apiPost } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';
import { utc } from '@/lib/format';

export interface KeyRow {
  id: string;
  nickname: string;
  aaguid: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  lockedAt: string | null;
  lockedReason: string | null;
}

type Options = Parameters<typeof startRegistration>[0]['optionsJSON'];

/**
 * A staff member's keys, with rename and revoke. `own`: the signed-in person's keys, who may also add one.
 * `canUnlock`: a superadmin looking at someone's locked key.
 */
export function KeysTable({ keys, own, canUnlock }: { keys: KeyRow[]; own: boolean; canUnlock?: boolean }) {
  const { act, busy, error, message, dialog } = useAction();
  const [nickname, setNickname] = useState('');
  // The server refuses to revoke the last usable key (not revoked, not locked); the button says so first.
  const usable = keys.filter((k) => !k.revokedAt && !k.lockedAt);
  const isLastUsable = (k: KeyRow) => usable.length === 1 && usable[0]!.id === k.id;

  async function addKey() {
    await act('The new key is registered.', async () => {
      const optionsJSON = await apiPost<Options>('/api/keys/add/options');
      const response = await startRegistration({ optionsJSON });
      await apiPost('/api/keys/add', { nickname, response });
      setNickname('');
    });
  }

  return (
    <div className="space-y-4">
      {dialog}
      <Feedback error={error} message={message} />
      <table className="w-full border-collapse text-left text-sm">
        <thead className="border-b border-slate-200 text-slate-500">
          <tr>
            <th className="py-2 pr-4 font-medium">Name</th>
            <th className="py-2 pr-4 font-medium">Model (AAGUID)</th>
            <th className="py-2 pr-4 font-medium">Added</th>
            <th className="py-2 pr-4 font-medium">Last used</th>
            <th className="py-2 pr-4 font-medium">State</th>
            <th className="py-2 font-medium">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} className="border-b border-slate-100" data-key-id={k.id}>
              <td className="py-2 pr-4">{k.nickname}</td>
              <td className="py-2 pr-4 font-mono text-xs">{k.aaguid}</td>
              <td className="py-2 pr-4">{utc(k.createdAt)}</td>
              <td className="py-2 pr-4">{utc(k.lastUsedAt)}</td>
              <td className="py-2 pr-4">
                {k.revokedAt ? 'Revoked' : k.lockedAt ? `Locked: ${k.lockedReason ?? ''}` : 'Active'}
              </td>
              <td className="py-2 text-right whitespace-nowrap">
                {!k.revokedAt && (
                  <span className="inline-flex gap-2">
                    <Button
                      variant="secondary"
                      disabled={busy}
                      aria-label={`Rename ${k.nickname}`}
                      onClick={() => {
                        const name = window.prompt('New name for this key', k.nickname);
                        if (name)
                          void act('The key is renamed.', () =>
                            apiPost('/api/keys/rename', { credentialId: k.id, nickname: name }),
                          );
                      }}
                    >
                      Rename
                    </Button>
                    {canUnlock && k.lockedAt && (
                      <Button
                        variant="secondary"
                        disabled={busy}
                        onClick={() => {
                          const reason = window.prompt(
                            'Why is it safe to unlock this key? (at least 10 characters)',
                          );
                          if (reason)
                            void act('The key is unlocked.', () =>
                              apiPost('/api/keys/unlock', { credentialId: k.id, reason }),
                            );
                        }}
                      >
                        Unlock
                      </Button>
                    )}
                    <Button
                      variant="danger"
                      disabled={busy || isLastUsable(k)}
                      aria-label={`Revoke ${k.nickname}`}
                      aria-describedby={isLastUsable(k) ? `last-key-${k.id}` : undefined}
                      onClick={() => {
                        if (window.confirm(`Revoke "${k.nickname}"? It will no longer sign in.`)) {
                          void act('The key is revoked.', () =>
                            apiPost('/api/keys/revoke', { credentialId: k.id }),
                          );
                        }
                      }}
                    >
                      Revoke
                    </Button>
                  </span>
                )}
                {isLastUsable(k) && (
                  <p id={`last-key-${k.id}`} className="mt-1 text-xs whitespace-normal text-slate-600">
                    {own
                      ? 'Your last usable key cannot be revoked: add another key first.'
                      : 'The last usable key on the account cannot be revoked.'}
                  </p>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {own && (
        <form
          className="flex items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void addKey();
          }}
        >
          <div>
            <label htmlFor="new-key-name" className="block text-sm font-medium text-slate-700">
              Name for a new key
            </label>
            <input
              id="new-key-name"
              value={nickname}
              onChange={(e) => setNickname(e.target.value)}
              className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
            />
          </div>
          <Button type="submit" disabled={busy}>
            Add a security key
          </Button>
        </form>
      )}
    </div>
  );
}
