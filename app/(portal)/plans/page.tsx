import type { Metadata } from 'next';
import { PlanDefaultsForm } from '@/components/plans/plan-defaults-form';
import { can, rolesWith } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { num } from '@/lib/format';
import { describeMfa } from '@/lib/plans';
import { listPlanTiers } from '@/lib/queries/plans';
import { TableFrame } from '@/components/ui/table-frame';

export const metadata: Metadata = { title: 'Plan tiers' };

type Tier = Awaited<ReturnType<typeof listPlanTiers>>[number];

const ROWS: Array<[string, (t: Tier) => string]> = [
  ['Monthly request quota', (t) => num(t.monthlyRequestQuota)],
  ['Requests per minute', (t) => num(t.requestsPerMinute)],
  ['Tokens per minute', (t) => num(t.tokensPerMinute)],
  ['Concurrent requests', (t) => num(t.concurrentRequests)],
  ['Default MFA', (t) => describeMfa(t.mfaRequired, t.mfaAllowedMethods)],
];

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
      <TableFrame>
        <table className="w-full border-collapse text-left text-sm">
          <caption className="sr-only">Plan tier defaults, one tier a column</caption>
          <thead className="border-b border-slate-200 bg-slate-50">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium text-slate-500">
                Default
              </th>
              {tiers.map((t) => (
                <th key={t.key} scope="col" data-tier={t.key} className="px-4 py-2 text-right align-bottom">
                  <span className="block font-semibold text-slate-900">{t.label}</span>
                  <span className="block font-mono text-xs font-normal text-slate-500">{t.key}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ROWS.map(([label, value]) => (
              <tr key={label} className="border-b border-slate-100">
                <th scope="row" className="px-4 py-2 font-medium whitespace-nowrap text-slate-700">
                  {label}
                </th>
                {tiers.map((t) => (
                  <td key={t.key} className="px-4 py-2 text-right tabular-nums">
                    {value(t)}
                  </td>
                ))}
              </tr>
            ))}
            <tr>
              <th scope="row" className="px-4 py-2 align-top font-medium text-slate-700">
                Description
              </th>
              {tiers.map((t) => (
                <td key={t.key} className="px-4 py-2 align-top text-xs text-slate-600">
                  {t.description}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </TableFrame>
      {edit && (
        <section aria-labelledby="edit-tiers" className="space-y-3">
          <h2 id="edit-tiers" className="text-lg font-semibold">
            Change a tier&apos;s defaults
          </h2>
          {tiers.map((t) => (
            <details key={t.key} className="rounded-lg border border-slate-200 bg-white p-4">
              <summary className="cursor-pointer font-medium">
                {t.label} <span className="font-mono text-xs font-normal text-slate-500">{t.key}</span>
              </summary>
              <div className="mt-3">
                <PlanDefaultsForm tier={t} />
              </div>
            </details>
          ))}
        </section>
      )}
    </div>
  );
}
