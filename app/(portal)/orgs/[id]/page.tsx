import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { ActForForm } from '@/components/acting/act-for-form';
import { type PendingRequest, PendingNotice } from '@/components/approvals/pending-notice';
import { OrgActions } from '@/components/acting/org-actions';
import { EntitlementsForm } from '@/components/orgs/entitlements-form';
import { MfaPolicyForm } from '@/components/orgs/mfa-policy-form';
import { OutpostsTable } from '@/components/orgs/outposts-table';
import { PlanTierForm } from '@/components/orgs/plan-tier-form';
import { OverrideForm, RateLimitsForm, RevokeOverrideButton } from '@/components/orgs/rate-limit-forms';
import { RateLimitTable } from '@/components/orgs/rate-limit-table';
import { SuspensionForm } from '@/components/orgs/suspension-form';
import { lastTwelveMonths, UsageChart } from '@/components/orgs/usage-chart';
import { can, type Permission, rolesWith } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { config } from '@/lib/config';
import { NotFoundError } from '@/lib/errors';
import { utc } from '@/lib/format';
import { ENTERPRISE_TIERS, RETENTION_DAYS, TIER_LABELS } from '@/lib/plans';
import type { Source } from '@/lib/queries/org-config';
import { pendingForOrg } from '@/lib/queries/approvals';
import { orgDetail } from '@/lib/queries/orgs';
import {
  BLOCK_PERMISSION,
  LIMIT_COLUMNS,
  LIMIT_KEYS,
  type LimitKey,
  overrideMaxDays,
  pickLimits,
} from '@/lib/rate-limits';
import { EmptyState } from '@/components/ui/empty-state';

export const metadata: Metadata = { title: 'Organisation' };

/**
 * One concern of the organisation, saying who may edit it: the roles with `permission` (and, for a second
 * kind of write, `also`), always inside an acting context. Without a permission it is read-only.
 */
function Section(props: {
  id: string;
  title: string;
  permission?: Permission;
  also?: { what: string; permission: Permission };
  /** Requests waiting for a second person that would change this section. */
  pending?: PendingRequest[];
  children: ReactNode;
}) {
  const who = (p: Permission) => rolesWith(p).join(', ');
  return (
    <section
      aria-labelledby={`section-${props.id}`}
      className="rounded-lg border border-slate-200 bg-white p-4"
    >
      <div className="mb-3 flex items-baseline justify-between gap-4">
        <h2 id={`section-${props.id}`} className="font-semibold">
          {props.title}
        </h2>
        <p className="text-xs text-slate-500">
          {props.permission
            ? `Who may edit: ${who(props.permission)}${props.also ? `; ${props.also.what}: ${who(props.also.permission)}` : ''}, inside an acting context`
            : 'Read-only: the platform writes these figures'}
        </p>
      </div>
      <PendingNotice requests={props.pending ?? []} />
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
  const waiting = await pendingForOrg(ctx, org.id);
  const pending = (...verbs: string[]) => waiting.filter((w) => verbs.includes(w.verb));
  const tierLimits = pickLimits(tier);
  const inForce = detail.overrides.find((o) => o.id === detail.config.override_id) ?? null;
  const effective = Object.fromEntries(
    LIMIT_KEYS.map((k) => {
      const column = LIMIT_COLUMNS[k];
      return [k, { value: detail.config[column], source: detail.config[`${column}_source`] }];
    }),
  ) as Record<LimitKey, { value: number; source: Source }>;
  const showOutposts = org.planTier === 'enterprise_outpost' || detail.outposts.length > 0;
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
      <Section
        id="plan-tier"
        title="Plan tier"
        permission="orgs.plan_tier.write"
        pending={pending('org.plan_tier')}
      >
        <PlanTierForm
          orgId={org.id}
          planTier={org.planTier}
          version={org.version}
          canEdit={canWrite('orgs.plan_tier.write')}
        />
      </Section>
      <Section
        id="mfa-policy"
        title="MFA policy"
        permission="orgs.mfa_policy.write"
        pending={pending('org.mfa_policy')}
      >
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
      <Section
        id="rate-limits"
        pending={pending('org.rate_limits', 'org.rate_limit_override')}
        title="Rate limits and quota"
        permission="orgs.rate_limits.write"
        also={{ what: 'time-boxed overrides', permission: 'orgs.rate_limits.override' }}
      >
        <div className="space-y-4">
          <RateLimitTable
            tier={tierLimits}
            org={detail.limits && pickLimits(detail.limits)}
            override={inForce && pickLimits(inForce)}
            effective={effective}
          />
          {detail.overrides.length > 0 && (
            <ul className="space-y-2 text-sm" aria-label="Overrides">
              {detail.overrides.map((o) => (
                <li
                  key={o.id}
                  className="flex items-start justify-between gap-4 rounded border border-slate-200 p-2"
                  data-override-id={o.id}
                >
                  <div>
                    <p>
                      {o.id === inForce?.id ? 'In force' : 'Not in force (replaced)'} until {utc(o.expiresAt)}
                    </p>
                    <p className="text-xs text-slate-500">
                      {o.reason} · by {o.createdByEmail} · {utc(o.createdAt)}
                    </p>
                  </div>
                  {canWrite('orgs.rate_limits.override') && (
                    <RevokeOverrideButton orgId={org.id} overrideId={o.id} />
                  )}
                </li>
              ))}
            </ul>
          )}
          <div className="grid gap-6 lg:grid-cols-2">
            {canWrite('orgs.rate_limits.write') && (
              <RateLimitsForm
                orgId={org.id}
                limits={detail.limits && pickLimits(detail.limits)}
                tierDefaults={tierLimits}
                version={detail.limits?.version ?? null}
                mayBlock={can(ctx.role, BLOCK_PERMISSION)}
              />
            )}
            {canWrite('orgs.rate_limits.override') && (
              <OverrideForm
                orgId={org.id}
                maxDays={overrideMaxDays(ctx.role)}
                mayBlock={can(ctx.role, BLOCK_PERMISSION)}
                active={
                  inForce && {
                    id: inForce.id,
                    ...pickLimits(inForce),
                    expiresAt: inForce.expiresAt.toISOString(),
                  }
                }
              />
            )}
          </div>
        </div>
      </Section>
      {ENTERPRISE_TIERS.has(org.planTier) && (
        <Section
          id="entitlements"
          title="Enterprise entitlements"
          permission="orgs.entitlements.write"
          pending={pending('org.entitlements')}
        >
          <EntitlementsForm
            orgId={org.id}
            entitlements={detail.entitlements}
            version={detail.entitlements?.version ?? null}
            retention={RETENTION_DAYS}
            canEdit={canWrite('orgs.entitlements.write')}
          />
        </Section>
      )}
      {showOutposts && (
        <Section
          id="outposts"
          title="Outposts"
          permission="orgs.outpost_mode.write"
          pending={pending('org.outpost_mode')}
        >
          <p className="mb-2 text-sm text-slate-600">
            The inference mode is vendor-only. With no GPU, requests are blocked; CPU trial runs DeBERTa on
            CPU and is vendor-only.
          </p>
          <OutpostsTable
            orgId={org.id}
            outposts={detail.outposts}
            canEdit={canWrite('orgs.outpost_mode.write')}
          />
        </Section>
      )}
      <Section
        id="kill-switch"
        title="Kill switch"
        permission="orgs.suspend"
        pending={pending('org.suspension')}
      >
        <p className="mb-3 text-sm">
          Status: <span className="font-medium">{org.status}</span>
          {org.status === 'suspended' && ` (${org.suspendedReason ?? 'no reason recorded'})`}. A suspended
          organisation’s requests are refused by the gateway.
        </p>
        {canWrite('orgs.suspend') && (
          <SuspensionForm
            orgId={org.id}
            orgName={org.name}
            suspended={org.status === 'suspended'}
            version={org.version}
          />
        )}
      </Section>
      <Section id="usage" title="Usage and billing">
        <UsageChart months={lastTwelveMonths(detail.usage)} quota={detail.config.monthly_request_quota} />
      </Section>
      <section aria-labelledby="section-notes" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="section-notes" className="mb-2 font-semibold">
          Support notes
        </h2>
        {notes.length === 0 ? (
          <EmptyState compact>No support notes yet.</EmptyState>
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
      <section aria-labelledby="section-audit" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="section-audit" className="mb-2 font-semibold">
          Audit
        </h2>
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
