'use client';

import { useState } from 'react';
import { CheckboxField, ConflictNote, FieldError, TextField } from '@/components/orgs/fields';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Button } from '@/components/ui/button';
import { Feedback } from '@/components/ui/feedback';
import { SIEM_CONNECTORS, type SiemConnector } from '@/lib/plans';

export interface Entitlements {
  maxOutposts: number;
  ssoEnabled: boolean;
  scimEnabled: boolean;
  siemConnectors: SiemConnector[];
  auditRetentionDays: number;
  dedicatedSupport: boolean;
  contractRef: string | null;
}

const SIEM_LABELS: Record<SiemConnector, string> = {
  splunk_hec: 'Splunk HEC',
  sentinel: 'Microsoft Sentinel',
  elastic: 'Elastic',
  datadog: 'Datadog',
  security_hub: 'AWS Security Hub',
  chronicle: 'Google Chronicle',
  qradar: 'IBM QRadar',
};

const FLAGS = [
  ['ssoEnabled', 'SSO'],
  ['scimEnabled', 'SCIM provisioning'],
  ['dedicatedSupport', 'Dedicated support'],
] as const;

const yes = (b: boolean) => (b ? 'yes' : 'no');

function describe(e: Entitlements): Array<[string, string]> {
  return [
    ['Max Outposts', String(e.maxOutposts)],
    ...FLAGS.map(([k, label]): [string, string] => [label, yes(e[k])]),
    ['SIEM connectors', e.siemConnectors.map((c) => SIEM_LABELS[c]).join(', ') || 'none'],
    ['Audit retention', `${e.auditRetentionDays} days`],
    ['Contract', e.contractRef ?? '—'],
  ];
}

/** The typed enterprise entitlements; without a row, the form starts from the table's defaults. */
export function EntitlementsForm(props: {
  orgId: string;
  entitlements: Entitlements | null;
  version: number | null;
  retention: { min: number; max: number };
  canEdit: boolean;
}) {
  const initial: Entitlements = props.entitlements ?? {
    maxOutposts: 0,
    ssoEnabled: false,
    scimEnabled: false,
    siemConnectors: [],
    auditRetentionDays: props.retention.min,
    dedicatedSupport: false,
    contractRef: null,
  };
  const [value, setValue] = useState(initial);
  const [maxOutposts, setMaxOutposts] = useState(String(initial.maxOutposts));
  const [retention, setRetention] = useState(String(initial.auditRetentionDays));
  const write = useOrgWrite(`/api/orgs/${props.orgId}/entitlements`);
  const fields = write.error?.fields ?? {};
  const current = write.conflict as (Entitlements & { version: number }) | null | undefined;
  const version = current === undefined ? props.version : (current?.version ?? null);
  const set = (patch: Partial<Entitlements>) => setValue((v) => ({ ...v, ...patch }));
  const toggleSiem = (c: SiemConnector) =>
    set({
      siemConnectors: value.siemConnectors.includes(c)
        ? value.siemConnectors.filter((x) => x !== c)
        : [...value.siemConnectors, c],
    });

  if (!props.canEdit) {
    return (
      <dl className="grid grid-cols-[10rem_1fr] gap-y-1 text-sm">
        {props.entitlements ? (
          describe(props.entitlements).map(([label, v]) => (
            <div key={label} className="contents">
              <dt className="text-slate-500">{label}</dt>
              <dd>{v}</dd>
            </div>
          ))
        ) : (
          <dd className="col-span-2 text-slate-500">No entitlements recorded yet.</dd>
        )}
      </dl>
    );
  }

  return (
    <form
      className="space-y-3"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void write.submit(
          {
            ...value,
            maxOutposts: Number(maxOutposts),
            auditRetentionDays: Number(retention),
            version,
          },
          'The entitlements are saved.',
        );
      }}
    >
      {write.dialog}
      <div className="grid gap-3 sm:grid-cols-3">
        <TextField
          id="ent-max-outposts"
          label="Max Outposts"
          type="number"
          min={0}
          step={1}
          value={maxOutposts}
          onChange={(e) => setMaxOutposts(e.target.value)}
          error={fields.maxOutposts}
        />
        <TextField
          id="ent-retention"
          label="Audit retention (days)"
          hint={`${props.retention.min}–${props.retention.max}`}
          type="number"
          min={props.retention.min}
          max={props.retention.max}
          step={1}
          value={retention}
          onChange={(e) => setRetention(e.target.value)}
          error={fields.auditRetentionDays}
        />
        <TextField
          id="ent-contract"
          label="Contract reference"
          value={value.contractRef ?? ''}
          onChange={(e) => set({ contractRef: e.target.value })}
          error={fields.contractRef}
        />
      </div>
      <fieldset className="space-y-1">
        <legend className="text-sm font-medium text-slate-700">Features</legend>
        {FLAGS.map(([k, label]) => (
          <CheckboxField
            key={k}
            label={label}
            checked={value[k]}
            onChange={(e) => set({ [k]: e.target.checked })}
          />
        ))}
      </fieldset>
      <fieldset className="space-y-1">
        <legend className="text-sm font-medium text-slate-700">SIEM connectors</legend>
        <div className="grid gap-1 sm:grid-cols-3">
          {SIEM_CONNECTORS.map((c) => (
            <CheckboxField
              key={c}
              label={SIEM_LABELS[c]}
              checked={value.siemConnectors.includes(c)}
              onChange={() => toggleSiem(c)}
            />
          ))}
        </div>
        <FieldError
          error={
            fields.siemConnectors ??
            Object.entries(fields).find(([f]) => f.startsWith('siemConnectors.'))?.[1]
          }
        />
      </fieldset>
      {current !== undefined ? (
        <ConflictNote current={current && describe(current)} none="The entitlements were removed." />
      ) : (
        <Feedback
          error={write.error}
          message={write.message}
          shown={['maxOutposts', 'auditRetentionDays', 'contractRef', 'siemConnectors']}
        />
      )}
      <Button type="submit" disabled={write.busy}>
        Save entitlements
      </Button>
    </form>
  );
}
