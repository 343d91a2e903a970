'use client';

import { useState } from 'react';
import { FieldError, TextField } from '@/components/orgs/fields';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { describeMfa, MFA_METHOD_LABELS, MFA_METHODS, type MfaMethod } from '@/lib/plans';

export interface MfaView {
  required: boolean;
  methods: MfaMethod[];
  source: 'tier' | 'org';
  tierRequired: boolean;
  tierMethods: MfaMethod[];
  version: number | null;
}

export function MfaPolicyForm(props: { orgId: string; policy: MfaView; canEdit: boolean }) {
  const p = props.policy;
  const [required, setRequired] = useState(p.required);
  const [methods, setMethods] = useState<MfaMethod[]>(p.methods);
  const [reason, setReason] = useState('');
  const write = useOrgWrite(`/api/orgs/${props.orgId}/mfa-policy`);
  const fields = write.error?.fields ?? {};
  const toggle = (m: MfaMethod) =>
    setMethods((now) => (now.includes(m) ? now.filter((x) => x !== m) : [...now, m]));

  return (
    <div className="space-y-3">
      {write.dialog}
      <dl className="grid grid-cols-[10rem_1fr] gap-y-1 text-sm">
        <dt className="text-slate-500">Effective</dt>
        <dd data-testid="mfa-effective">
          {describeMfa(p.required, p.methods)}{' '}
          <span className="text-slate-500">
            (from the {p.source === 'org' ? 'organisation' : 'plan tier'})
          </span>
        </dd>
        <dt className="text-slate-500">Tier default</dt>
        <dd>{describeMfa(p.tierRequired, p.tierMethods)}</dd>
      </dl>
      {props.canEdit && (
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            void write.submit(
              { required, methods, reason: reason || undefined, version: p.version },
              'The MFA policy is saved.',
            );
          }}
        >
          <fieldset className="space-y-1">
            <legend className="text-sm font-medium text-slate-700">Organisation policy</legend>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={required} onChange={(e) => setRequired(e.target.checked)} />
              MFA required
            </label>
            {MFA_METHODS.map((m) => (
              <label key={m} className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={methods.includes(m)} onChange={() => toggle(m)} />
                {MFA_METHOD_LABELS[m]}
              </label>
            ))}
            <FieldError error={fields.methods} />
          </fieldset>
          <TextField
            id="mfa-reason"
            label="Reason"
            hint="required when the change weakens the policy"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            error={fields.reason}
          />
          <Feedback error={write.error} message={write.message} shown={['methods', 'reason']} />
          <Button type="submit" disabled={write.busy}>
            Save MFA policy
          </Button>
        </form>
      )}
    </div>
  );
}
