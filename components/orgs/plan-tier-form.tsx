'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { apiGet } from '@/components/api';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { num } from '@/lib/format';
import { describeMfa, PLAN_TIERS, type PlanTier, TIER_LABELS } from '@/lib/plans';
import type { Source, TierPreview } from '@/lib/queries/org-config';
import { LIMIT_KEYS, LIMIT_LABELS } from '@/lib/rate-limits';
import { TableHead } from '@/components/ui/table-head';

const FROM: Record<Source, string> = {
  tier: 'the plan tier',
  org: 'the organisation’s own value',
  override: 'the override in force',
};

const limitValue = (v: { value: number; source: Source }) => `${num(v.value)} (${FROM[v.source]})`;

/**
 * What the chosen tier would put in force, resolved by the server through the one resolver (the
 * platform_org_config view), with a warning for each value of the organisation's own that keeps
 * overriding the new tier's default.
 */
function TierPreviewTable({ preview }: { preview: TierPreview }) {
  const label = TIER_LABELS[preview.tier];
  const warnings = [
    ...LIMIT_KEYS.filter((k) => preview.limits[k].keepsOverriding).map((k) => {
      const l = preview.limits[k];
      return `${LIMIT_LABELS[k]} stays ${num(l.proposed.value)} (${FROM[l.proposed.source]}) instead of ${label}’s default of ${num(l.tierDefault)}.`;
    }),
    ...(preview.mfa.keepsOverriding
      ? [
          `MFA stays “${describeMfa(preview.mfa.proposed.value.required, preview.mfa.proposed.value.methods)}” (the organisation’s own policy) instead of ${label}’s default, “${describeMfa(preview.mfa.tierDefault.required, preview.mfa.tierDefault.methods)}”.`,
        ]
      : []),
  ];
  return (
    <div className="space-y-2" data-testid="tier-preview">
      <table className="w-full border-collapse text-left text-sm">
        <caption className="mb-1 text-left text-xs text-slate-600">
          Effective limits with {label}, as the gateway would apply them
        </caption>
        <TableHead columns={['Limit', 'Now', `With ${label}`]} />
        <tbody>
          {LIMIT_KEYS.map((k) => {
            const l = preview.limits[k];
            return (
              <tr key={k} className="border-b border-slate-100" data-preview={k}>
                <th scope="row" className="py-1 pr-3 font-normal">
                  {LIMIT_LABELS[k]}
                </th>
                <td className="py-1 pr-3 tabular-nums">{limitValue(l.now)}</td>
                <td className={`py-1 tabular-nums ${l.keepsOverriding ? 'font-medium text-amber-900' : ''}`}>
                  {limitValue(l.proposed)}
                </td>
              </tr>
            );
          })}
          <tr className="border-b border-slate-100" data-preview="mfa">
            <th scope="row" className="py-1 pr-3 font-normal">
              MFA
            </th>
            <td className="py-1 pr-3">
              {describeMfa(preview.mfa.now.value.required, preview.mfa.now.value.methods)}
            </td>
            <td className={`py-1 ${preview.mfa.keepsOverriding ? 'font-medium text-amber-900' : ''}`}>
              {describeMfa(preview.mfa.proposed.value.required, preview.mfa.proposed.value.methods)}
            </td>
          </tr>
        </tbody>
      </table>
      {warnings.length > 0 && (
        <Alert tone="warning">
          <p className="font-medium">
            The organisation’s own values keep overriding the new tier’s defaults:
          </p>
          <ul className="mt-1 list-disc pl-5">
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </Alert>
      )}
    </div>
  );
}

export function PlanTierForm(props: {
  orgId: string;
  planTier: PlanTier;
  version: number;
  canEdit: boolean;
}) {
  const [tier, setTier] = useState<PlanTier>(props.planTier);
  const [confirmRemoval, setConfirmRemoval] = useState(false);
  const write = useOrgWrite(`/api/orgs/${props.orgId}/plan-tier`);
  const needsDecision = write.error?.code === 'entitlements_decision_required';
  const current =
    write.error?.status === 409 && !needsDecision
      ? (write.error.body.current as { planTier?: string } | undefined)
      : undefined;
  const preview = useQuery({
    queryKey: ['tier-preview', props.orgId, tier, props.version],
    queryFn: () => apiGet<TierPreview>(`/api/orgs/${props.orgId}/plan-tier/preview/${tier}`),
    enabled: tier !== props.planTier,
    staleTime: 30_000,
  });

  return (
    <form
      className="space-y-3"
      onSubmit={(e) => {
        e.preventDefault();
        void write.submit(
          { planTier: tier, version: props.version, ...(confirmRemoval && { removeEntitlements: true }) },
          'The plan tier is changed.',
        );
      }}
    >
      {write.dialog}
      <div className="flex items-end gap-3">
        <div>
          <label htmlFor="plan-tier" className="block text-sm font-medium text-slate-700">
            Plan tier
          </label>
          <select
            id="plan-tier"
            value={tier}
            onChange={(e) => setTier(e.target.value as PlanTier)}
            className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
          >
            {PLAN_TIERS.map((t) => (
              <option key={t} value={t}>
                {TIER_LABELS[t]} ({t}){t === props.planTier ? ' — current' : ''}
              </option>
            ))}
          </select>
        </div>
        {props.canEdit && (
          <Button type="submit" disabled={write.busy || tier === props.planTier}>
            Change plan tier
          </Button>
        )}
      </div>
      {!props.canEdit && (
        <p className="text-xs text-slate-500">
          Choose a tier to preview the limits it would give; changing it needs an acting context and the
          permission.
        </p>
      )}
      {tier !== props.planTier &&
        (preview.data ? (
          <TierPreviewTable preview={preview.data} />
        ) : preview.error ? (
          <Alert tone="error">The preview failed: {preview.error.message}</Alert>
        ) : (
          <p className="text-sm text-slate-600" role="status">
            Working out the limits {TIER_LABELS[tier]} would give…
          </p>
        ))}
      {needsDecision && (
        <div className="space-y-2">
          <Alert tone="warning">{write.error!.message}</Alert>
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={confirmRemoval}
              onChange={(e) => setConfirmRemoval(e.target.checked)}
            />
            Remove the enterprise entitlements with this move
          </label>
        </div>
      )}
      {write.error && !needsDecision && (
        <Alert tone="error">
          {write.error.message}
          {current &&
            ` Current tier: ${current.planTier}; your choice, ${tier}, is still selected. Reload to edit the current version.`}
        </Alert>
      )}
      {write.message && <Alert tone={write.unchanged ? 'info' : 'success'}>{write.message}</Alert>}
    </form>
  );
}
