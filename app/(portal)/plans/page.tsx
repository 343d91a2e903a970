import type { Metadata } from 'next';
import { PlanDefaultsForm } from '@/components/plans/plan-defaults-form';
import { can, rolesWith } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { num } from '@/lib/format';
import { describeMfa } from '@/lib/plans';
import { listPlanTiers } from '@/lib/queries/plans';

export const metadata: Metadata = { title: 'Plan tiers' };

export default async function PlansPage() {
  const ctx = await requireStaffPage('plans.read');
  const tiers = await listPlanTiers(ctx);
  const edit = can(ctx.role, 'plans.write');
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Plan tiers</h1>
        <p className="text-sm text-slate-600">
          The five canonical tiers (ADR-012) and their defaults. Organisations without their own values follow
          these. Who may edit: {rolesWith('plans.write').join(', ')}, with a fresh security-key check.
        </p>
      </div>
      {tiers.map((t) => (
        <section
          key={t.key}
          aria-labelledby={`tier-${t.key}`}
          className="rounded-lg border border-slate-200 bg-white p-4"
        >
          <h2 id={`tier-${t.key}`} className="font-semibold">
            {t.label} <span className="font-mono text-xs font-normal text-slate-500">{t.key}</span>
          </h2>
          <p className="mb-3 text-sm text-slate-600">{t.description}</p>
          {edit ? (
            <PlanDefaultsForm tier={t} />
          ) : (
            <dl className="grid grid-cols-[14rem_1fr] gap-y-1 text-sm">
              <dt className="text-slate-500">Monthly request quota</dt>
              <dd>{num(t.monthlyRequestQuota)}</dd>
              <dt className="text-slate-500">Requests / tokens per minute</dt>
              <dd>
                {num(t.requestsPerMinute)} / {num(t.tokensPerMinute)}
              </dd>
              <dt className="text-slate-500">Concurrent requests</dt>
              <dd>{num(t.concurrentRequests)}</dd>
              <dt className="text-slate-500">Default MFA</dt>
              <dd>{describeMfa(t.mfaRequired, t.mfaAllowedMethods)}</dd>
            </dl>
          )}
        </section>
      ))}
    </div>
  );
}
