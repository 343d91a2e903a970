'use client';

import { useState } from 'react';
import { useOrgWrite } from '@/components/orgs/use-org-write';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { PLAN_TIERS, type PlanTier, TIER_LABELS } from '@/lib/plans';

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
            disabled={!props.canEdit}
            onChange={(e) => setTier(e.target.value as PlanTier)}
            className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
          >
            {PLAN_TIERS.map((t) => (
              <option key={t} value={t}>
                {TIER_LABELS[t]} ({t})
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
      {write.message && <Alert tone="success">{write.message}</Alert>}
    </form>
  );
}
