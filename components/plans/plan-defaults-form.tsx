'use client';

import { useState } from 'react';
import { CheckboxField, ConflictNote, FieldError, TextField } from '@/components/orgs/fields';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { num } from '@/lib/format';
import { MFA_METHODS, MFA_METHOD_LABELS, type MfaMethod, type PlanTier } from '@/lib/plans';

export interface TierDefaults {
  key: PlanTier;
  label: string;
  monthlyRequestQuota: number;
  requestsPerMinute: number;
  tokensPerMinute: number;
  concurrentRequests: number;
  mfaRequired: boolean;
  mfaAllowedMethods: MfaMethod[];
  version: number;
}

const NUMBERS = [
  ['monthlyRequestQuota', 'Monthly request quota'],
  ['requestsPerMinute', 'Requests per minute'],
  ['tokensPerMinute', 'Tokens per minute'],
  ['concurrentRequests', 'Concurrent requests'],
] as const;

/** An admin edits one tier's defaults; the tier key itself never changes. */
export function PlanDefaultsForm({ tier }: { tier: TierDefaults }) {
  const [values, setValues] = useState(tier);
  const write = useOrgWrite('/api/plans');
  const fields = write.error?.fields ?? {};
  const conflict = write.conflict as TierDefaults | undefined;
  const version = conflict?.version ?? tier.version;
  const id = (name: string) => `${tier.key}-${name}`;

  return (
    <form
      aria-label={`${tier.key} defaults`}
      className="space-y-3"
      onSubmit={(e) => {
        e.preventDefault();
        void write.submit({ ...values, tier: tier.key, version }, `The ${tier.key} defaults are saved.`);
      }}
    >
      {write.dialog}
      <TextField
        id={id('label')}
        label="Label"
        value={values.label}
        error={fields.label}
        onChange={(e) => setValues({ ...values, label: e.target.value })}
      />
      <div className="grid grid-cols-2 gap-3">
        {NUMBERS.map(([key, label]) => (
          <TextField
            key={key}
            id={id(key)}
            label={label}
            type="number"
            min={1}
            value={values[key]}
            error={fields[key]}
            onChange={(e) => setValues({ ...values, [key]: Number(e.target.value) })}
          />
        ))}
      </div>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Default MFA policy</legend>
        <CheckboxField
          label="MFA required"
          checked={values.mfaRequired}
          onChange={(e) => setValues({ ...values, mfaRequired: e.target.checked })}
        />
        {MFA_METHODS.map((m) => (
          <CheckboxField
            key={m}
            label={MFA_METHOD_LABELS[m]}
            checked={values.mfaAllowedMethods.includes(m)}
            onChange={() =>
              setValues({
                ...values,
                mfaAllowedMethods: values.mfaAllowedMethods.includes(m)
                  ? values.mfaAllowedMethods.filter((x) => x !== m)
                  : [...values.mfaAllowedMethods, m],
              })
            }
          />
        ))}
        <FieldError error={fields.mfaAllowedMethods} />
      </fieldset>
      {conflict && (
        <ConflictNote
          none="The tier has no current values."
          current={NUMBERS.map(([key, label]) => [label, num(conflict[key])] as [string, string])}
        />
      )}
      {!conflict && (
        <Feedback
          error={write.error}
          message={write.message}
          shown={['label', 'mfaAllowedMethods', ...NUMBERS.map(([key]) => key)]}
        />
      )}
      <Button type="submit" disabled={write.busy}>
        Save {tier.key} defaults
      </Button>
    </form>
  );
}
