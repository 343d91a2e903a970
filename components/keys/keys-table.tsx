'use client';

import { startRegistration } from '@simplewebauthn/browser';
import { useState } from 'react';
import { apiPost } from '@/components/api';
import { TextField } from '@/components/orgs/fields';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { useAction } from '@/components/use-action';
import { utc } from '@/lib/format';
import { TableHead } from '@/components/ui/table-head';

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

type PanelKind = 'rename' | 'unlock' | 'revoke';

const DONE: Record<PanelKind, string> = {
  rename: 'The key is renamed.',
  unlock: 'The key is unlocked.',
  revoke: 'The key is revoked.',
};

function body(kind: PanelKind, credentialId: string, text: string) {
  if (kind === 'rename') return { credentialId, nickname: text };
  if (kind === 'unlock') return { credentialId, reason: text };
  return { credentialId };
}

/** The form under a key's row: a new name, the reason for an unlock, or the revocation to confirm. */
function KeyPanel(props: {
  keyRow: KeyRow;
  kind: PanelKind;
  busy: boolean;
  error?: string;
  onCancel: () => void;
  onSubmit: (text: string) => Promise<void>;
}) {
  const { keyRow: k, kind } = props;
  const [text, setText] = useState(kind === 'rename' ? k.nickname : '');
  const id = `key-${kind}-${k.id}`;
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      aria-label={`${kind === 'rename' ? 'Rename' : kind === 'unlock' ? 'Unlock' : 'Revoke'} ${k.nickname}`}
      onSubmit={(e) => {
        e.preventDefault();
        void props.onSubmit(text);
      }}
    >
      {kind === 'revoke' ? (
        <p className="text-sm text-slate-800">
          Revoke “{k.nickname}”? It will no longer sign in or confirm changes. This cannot be undone.
        </p>
      ) : (
        <TextField
          id={id}
          className="min-w-72 flex-1"
          label={kind === 'rename' ? 'New name for this key' : 'Why is it safe to unlock this key?'}
          hint={kind === 'unlock' ? 'at least 10 characters' : undefined}
          autoFocus
          autoComplete="off"
          value={text}
          onChange={(e) => setText(e.target.value)}
          error={props.error}
        />
      )}
      <div className="flex gap-2">
        <Button type="submit" variant={kind === 'revoke' ? 'danger' : 'primary'} disabled={props.busy}>
          {kind === 'rename' ? 'Save name' : kind === 'unlock' ? 'Unlock key' : 'Revoke key'}
        </Button>
        <Button type="button" variant="secondary" onClick={props.onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

/**
 * A staff member's keys, with rename and revoke, each in a panel under the key's row. `own`: the signed-in person's keys, who may also add one.
 * `canUnlock`: a superadmin looking at someone's locked key.
 */
export function KeysTable({ keys, own, canUnlock }: { keys: KeyRow[]; own: boolean; canUnlock?: boolean }) {
  const { act, busy, error, message, dialog } = useAction();
  const [nickname, setNickname] = useState('');
  // The one key whose rename, unlock or revoke panel is open, under its row.
  const [open, setOpen] = useState<{ id: string; kind: PanelKind } | null>(null);
  const toggle = (k: KeyRow, kind: PanelKind) =>
    setOpen(open?.id === k.id && open.kind === kind ? null : { id: k.id, kind });
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
      <Feedback error={error} message={message} shown={['nickname', 'reason']} />
      <table className="w-full border-collapse text-left text-sm">
        <TableHead
          columns={[
            'Name',
            'Model (AAGUID)',
            'Added',
            'Last used',
            'State',
            <span key="actions" className="sr-only">
              Actions
            </span>,
          ]}
        />
        <tbody>
          {keys.flatMap((k) => [
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
                      aria-expanded={open?.id === k.id && open.kind === 'rename'}
                      onClick={() => toggle(k, 'rename')}
                    >
                      Rename
                    </Button>
                    {canUnlock && k.lockedAt && (
                      <Button
                        variant="secondary"
                        disabled={busy}
                        aria-expanded={open?.id === k.id && open.kind === 'unlock'}
                        onClick={() => toggle(k, 'unlock')}
                      >
                        Unlock
                      </Button>
                    )}
                    <Button
                      variant="danger"
                      disabled={busy || isLastUsable(k)}
                      aria-label={`Revoke ${k.nickname}`}
                      aria-describedby={isLastUsable(k) ? `last-key-${k.id}` : undefined}
                      aria-expanded={open?.id === k.id && open.kind === 'revoke'}
                      onClick={() => toggle(k, 'revoke')}
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
            </tr>,
            open?.id === k.id && (
              <tr key={`${k.id}-${open.kind}`} className="border-b border-slate-100 bg-slate-50">
                <td colSpan={6} className="px-3 py-3">
                  <KeyPanel
                    keyRow={k}
                    kind={open.kind}
                    busy={busy}
                    error={error?.fields[open.kind === 'rename' ? 'nickname' : 'reason']}
                    onCancel={() => setOpen(null)}
                    onSubmit={async (text) => {
                      const done = await act(DONE[open.kind], () =>
                        apiPost(`/api/keys/${open.kind}`, body(open.kind, k.id, text)),
                      );
                      if (done !== undefined) setOpen(null);
                    }}
                  />
                </td>
              </tr>
            ),
          ])}
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
