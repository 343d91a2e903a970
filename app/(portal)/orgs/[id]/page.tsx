import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { ActForForm } from '@/components/acting/act-for-form';
import { OrgActions } from '@/components/acting/org-actions';
import { MfaPolicyForm } from '@/components/orgs/mfa-policy-form';
import { PlanTierForm } from '@/components/orgs/plan-tier-form';
import { can, type Permission, rolesWith } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { config } from '@/lib/config';
import { NotFoundError } from '@/lib/errors';
import { TIER_LABELS } from '@/lib/plans';
import { orgDetail } from '@/lib/queries/orgs';

export const metadata: Metadata = { title: 'Organisation' };

function Section(props: { title: string; permission: Permission; children: ReactNode }) {
  return (
    <section
      aria-labelledby={`section-${props.permission}`}
      className="rounded-lg border border-slate-200 bg-white p-4"
    >
      <div className="mb-3 flex items-baseline justify-between gap-4">
        <h2 id={`section-${props.permission}`} className="font-semibold">
          {props.title}
        </h2>
        <p className="text-xs text-slate-500">
          Who may edit: {rolesWith(props.permission).join(', ')}, inside an acting context
        </p>
      </div>
      {props.children}
    </section>
  );
}

export default async function OrgPage({ params }: { params: Promise<{ id: string }> }) {
  const ctx = await requireStaffPage('orgs.read');
  const { id } = await params;
  const detail = await orgDetail(ctx, id).catch((err: unknown) => {
    if (err instanceof NotFoundError) notFound();
    throw err;
  });
  const { org, notes, tier, mfaOverride, audit } = detail;
  const c = config();
  const actingHere = ctx.acting?.orgId === org.id;
  const canWrite = (p: Permission) => actingHere && can(ctx.role, p);
  return (
    <div className="space-y-6">
      {org.status === 'suspended' && (
        <div role="alert" className="rounded-md bg-red-700 px-4 py-2 text-sm font-medium text-white">
          Suspended: {org.suspendedReason ?? 'no reason recorded'}
        </div>
      )}
      <div>
        <h1 className="text-2xl font-semibold">{org.name}</h1>
        <p className="text-sm text-slate-600">
          <span className="font-mono">{org.slug}</span> · {TIER_LABELS[org.planTier]} · {org.status}
        </p>
      </div>
      {actingHere ? (
        <OrgActions
          orgId={org.id}
          portalUrl={c.PORTAL_URL}
          canNote={can(ctx.role, 'orgs.support_note.write')}
          canMint={can(ctx.role, 'platform_token.mint')}
        />
      ) : (
        can(ctx.role, 'acting.start') && (
          <ActForForm
            orgId={org.id}
            orgName={org.name}
            defaultMinutes={c.ACTING_DEFAULT_MINUTES}
            maxMinutes={c.ACTING_MAX_MINUTES}
          />
        )
      )}
      <Section title="Plan tier" permission="orgs.plan_tier.write">
        <PlanTierForm
          orgId={org.id}
          planTier={org.planTier}
          version={org.version}
          canEdit={canWrite('orgs.plan_tier.write')}
        />
      </Section>
      <Section title="MFA policy" permission="orgs.mfa_policy.write">
        <MfaPolicyForm
          orgId={org.id}
          canEdit={canWrite('orgs.mfa_policy.write')}
          policy={{
            required: detail.config.mfa_required,
            methods: detail.config.mfa_allowed_methods,
            source: detail.config.mfa_source,
            tierRequired: tier.mfaRequired,
            tierMethods: tier.mfaAllowedMethods,
            version: mfaOverride?.version ?? null,
          }}
        />
      </Section>
      <section className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-semibold">Support notes</h2>
        {notes.length === 0 ? (
          <p className="text-sm text-slate-500">No notes yet.</p>
        ) : (
          <ul className="space-y-2 text-sm">
            {notes.map((n) => (
              <li key={n.id} className="rounded border border-slate-200 p-2">
                <p>{n.body}</p>
                <p className="text-xs text-slate-500">
                  {n.author} · {n.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-semibold">Audit</h2>
        <table className="w-full border-collapse text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-500">
            <tr>
              <th className="py-1 pr-3 font-medium">Time (UTC)</th>
              <th className="py-1 pr-3 font-medium">Action</th>
              <th className="py-1 pr-3 font-medium">Staff</th>
              <th className="py-1 font-medium">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {audit.map((e) => (
              <tr key={e.seq} className="border-b border-slate-100" data-action={e.action}>
                <td className="py-1 pr-3">{e.occurredAt.toISOString().replace('T', ' ').slice(0, 19)}</td>
                <td className="py-1 pr-3 font-mono text-xs">{e.action}</td>
                <td className="py-1 pr-3">{e.actorEmail}</td>
                <td className="py-1">{e.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
