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
import { can, type Permission, PLATFORM_SCOPES, rolesWith, SCOPE_PERMISSION } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { config } from '@/lib/config';
import { NotFoundError } from '@/lib/errors';
import { ShortId } from '@/components/ui/short-id';
import { diffSummary } from '@/lib/audit/summary';
import { num, utc, utcMinute } from '@/lib/format';
import { describeMfa, ENTERPRISE_TIERS, RETENTION_DAYS, TIER_LABELS } from '@/lib/plans';
import type { Source } from '@/lib/queries/org-config';
import { pendingForOrg } from '@/lib/queries/approvals';
import { orgDetail } from '@/lib/queries/orgs';
import {
  BLOCK_PERMISSION,
  LIMIT_COLUMNS,
  LIMIT_KEYS,
  LIMIT_LABELS,
  type LimitKey,
  overrideMaxDays,
  pickLimits,
} from '@/lib/rate-limits';
import { EmptyState } from '@/components/ui/empty-state';
import { TableHead } from '@/components/ui/table-head';

export const metadata: Metadata = { title: 'Organisation' };

/** A section's anchor: its own id, apart from the ids of the form fields inside it (`plan-tier`…). */
const anchor = (id: string) => `${id}-section`;

/**
 * One concern of the organisation, saying who may edit it: the roles with `permission` (and, for a second
 * kind of write, `also`), always inside an acting context. Without a permission it is read-only.
 */
function Section(props: {
  id: string;
  title: string;
  permission?: Permission;
  also?: { what: string; permission: Permission };
  /** The danger zone: a red frame around the writes that block the organisation. */
  danger?: boolean;
  /** Requests waiting for a second person that would change this section. */
  pending?: PendingRequest[];
  children: ReactNode;
}) {
  const who = (p: Permission) => rolesWith(p).join(', ');
  return (
    <section
      id={anchor(props.id)}
      aria-labelledby={`section-${props.id}`}
      className={`scroll-mt-4 rounded-lg border bg-white p-4 ${props.danger ? 'border-2 border-red-300' : 'border-slate-200'}`}
    >
      <div className="mb-3 flex items-baseline justify-between gap-4">
        <h2 id={`section-${props.id}`} className={`font-semibold ${props.danger ? 'text-red-800' : ''}`}>
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
  // The scopes this role may mint, as the permission matrix says; the service checks the same.
  const scopes = PLATFORM_SCOPES.filter(
    (scope) => can(ctx.role, 'platform_token.mint') && can(ctx.role, SCOPE_PERMISSION[scope]),
  );
  const orgName = { name: org.name, slug: org.slug };
  const sections: Array<[string, string]> = [
    ['acting', 'Acting tools'],
    ['plan-tier', 'Plan tier'],
    ['mfa-policy', 'MFA policy'],
    ['rate-limits', 'Rate limits'],
    ...(ENTERPRISE_TIERS.has(org.planTier) ? [['entitlements', 'Entitlements'] as [string, string]] : []),
    ...(showOutposts ? [['outposts', 'Outposts'] as [string, string]] : []),
    ['usage', 'Usage'],
    ['notes', 'Support notes'],
    ['audit', 'Audit'],
    ['danger-zone', 'Danger zone'],
  ];
  const explorer = `/audit?${new URLSearchParams({ org: org.id })}`;
  return (
    <div className="space-y-6">
      {org.status === 'suspended' && (
        <div role="alert" className="rounded-md bg-red-700 px-4 py-2 text-sm font-medium text-white">
          Suspended: {org.suspendedReason ?? 'no reason recorded'}
        </div>
      )}
      <header className="space-y-3">
        <div>
          <h1 className="text-2xl font-semibold">{org.name}</h1>
          <p className="text-sm text-slate-600">
            <span className="font-mono">{org.slug}</span> · {TIER_LABELS[org.planTier]} · {org.status}
          </p>
        </div>
        <dl
          aria-label="Summary"
          data-testid="org-summary"
          className="grid grid-cols-2 gap-x-6 gap-y-2 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-4"
        >
          <div>
            <dt className="text-xs text-slate-500">Status</dt>
            <dd className={org.status === 'suspended' ? 'font-semibold text-red-800' : 'font-medium'}>
              {org.status === 'suspended' ? 'Suspended' : 'Active'}
            </dd>
          </div>
          <div>
            <dt className="text-xs text-slate-500">Plan tier</dt>
            <dd className="font-medium">{TIER_LABELS[org.planTier]}</dd>
          </div>
          <div>
            <dt className="text-xs text-slate-500">Organisation id</dt>
            <dd>
              <ShortId id={org.id} label="organisation id" />
            </dd>
          </div>
          <div>
            <dt className="text-xs text-slate-500">Your acting context</dt>
            <dd data-testid="summary-acting">
              {actingHere ? (
                <>Open until {utcMinute(ctx.acting!.expiresAt)}</>
              ) : ctx.openActing ? (
                <>For another organisation ({ctx.openActing.orgName})</>
              ) : (
                <>None open</>
              )}
            </dd>
          </div>
          {LIMIT_KEYS.map((k) => (
            <div key={k}>
              <dt className="text-xs text-slate-500">{LIMIT_LABELS[k]}</dt>
              <dd className="tabular-nums" data-testid={`summary-${k}`}>
                {num(effective[k].value)}
                {effective[k].source !== 'tier' && (
                  <span className="text-xs text-slate-500">
                    {' '}
                    ({effective[k].source === 'org' ? 'own value' : 'override'})
                  </span>
                )}
              </dd>
            </div>
          ))}
          <div className="col-span-2">
            <dt className="text-xs text-slate-500">MFA</dt>
            <dd>
              {describeMfa(detail.config.mfa_required, detail.config.mfa_allowed_methods)}
              {detail.config.mfa_source === 'org' && (
                <span className="text-xs text-slate-500"> (own policy)</span>
              )}
            </dd>
          </div>
        </dl>
        <nav aria-label="Sections of this page" className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
          {sections.map(([id, label]) => (
            <a
              key={id}
              href={`#${anchor(id)}`}
              className={
                id === 'danger-zone' ? 'text-red-800 hover:underline' : 'text-sky-700 hover:underline'
              }
            >
              {label}
            </a>
          ))}
        </nav>
      </header>
      <section
        id={anchor('acting')}
        aria-labelledby="section-acting"
        className="scroll-mt-4 rounded-lg border border-slate-200 bg-white p-4"
      >
        <h2 id="section-acting" className="mb-3 font-semibold">
          Acting tools
        </h2>
        {actingHere ? (
          <OrgActions
            orgId={org.id}
            portalUrl={c.PORTAL_URL}
            canNote={can(ctx.role, 'orgs.support_note.write')}
            scopes={scopes}
          />
        ) : can(ctx.role, 'acting.start') ? (
          <ActForForm
            orgId={org.id}
            orgName={org.name}
            defaultMinutes={c.ACTING_DEFAULT_MINUTES}
            maxMinutes={c.ACTING_MAX_MINUTES}
          />
        ) : (
          <p className="text-sm text-slate-600">
            Your role ({ctx.role}) does not act for organisations: this page is read-only for you.
          </p>
        )}
      </section>
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
                org={orgName}
                limits={detail.limits && pickLimits(detail.limits)}
                tierDefaults={tierLimits}
                version={detail.limits?.version ?? null}
                mayBlock={can(ctx.role, BLOCK_PERMISSION)}
              />
            )}
            {canWrite('orgs.rate_limits.override') && (
              <OverrideForm
                orgId={org.id}
                org={orgName}
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
      <Section id="usage" title="Usage and billing">
        <UsageChart months={lastTwelveMonths(detail.usage)} quota={detail.config.monthly_request_quota} />
      </Section>
      <section
        id={anchor('notes')}
        aria-labelledby="section-notes"
        className="scroll-mt-4 rounded-lg border border-slate-200 bg-white p-4"
      >
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
                  {n.author} · {utcMinute(n.createdAt)}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section
        id={anchor('audit')}
        aria-labelledby="section-audit"
        className="scroll-mt-4 rounded-lg border border-slate-200 bg-white p-4"
      >
        <div className="mb-2 flex items-baseline justify-between gap-4">
          <h2 id="section-audit" className="font-semibold">
            Audit
          </h2>
          <a href={explorer} className="text-sm text-sky-700 hover:underline">
            All entries for {org.name} in the audit explorer
          </a>
        </div>
        <table className="w-full border-collapse text-left text-sm">
          <caption className="sr-only">The organisation’s latest audit entries, newest first</caption>
          <TableHead columns={['Entry', 'Time (UTC)', 'Action', 'Change', 'Staff', 'Outcome']} />
          <tbody>
            {audit.map((e) => (
              <tr key={e.seq} className="border-b border-slate-100 align-top" data-action={e.action}>
                <td className="py-1 pr-3 font-mono text-xs">
                  <a
                    href={`/audit/${e.seq}`}
                    className="text-sky-700 hover:underline"
                    aria-label={`Entry ${e.seq}`}
                  >
                    {e.seq}
                  </a>
                </td>
                <td className="py-1 pr-3 whitespace-nowrap">{utc(e.occurredAt)}</td>
                <td className="py-1 pr-3 font-mono text-xs">
                  <a
                    href={`/audit?${new URLSearchParams({ org: org.id, action: e.action })}`}
                    className="text-sky-700 hover:underline"
                    title={`Every ${e.action} entry of ${org.name}`}
                  >
                    {e.action}
                  </a>
                </td>
                <td className="py-1 pr-3 font-mono text-xs">{diffSummary(e.diff) || '—'}</td>
                <td className="py-1 pr-3">{e.actorEmail}</td>
                <td className="py-1">{e.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Section
        id="danger-zone"
        title="Danger zone"
        permission="orgs.suspend"
        danger
        pending={pending('org.suspension')}
      >
        <h3 className="text-sm font-semibold">Kill switch</h3>
        <p className="mb-3 text-sm" data-testid="kill-switch-status">
          Status: <span className="font-medium">{org.status}</span>
          {org.status === 'suspended' && ` (${org.suspendedReason ?? 'no reason recorded'})`}. A suspended
          organisation’s requests are refused by the gateway. Limits of 0 block it the same way; they are set
          under Rate limits, with the same fresh key touch.
        </p>
        {canWrite('orgs.suspend') ? (
          <SuspensionForm
            orgId={org.id}
            orgName={org.name}
            orgSlug={org.slug}
            suspended={org.status === 'suspended'}
            version={org.version}
          />
        ) : (
          <p className="text-sm text-slate-600">
            {can(ctx.role, 'orgs.suspend')
              ? 'Start acting for this organisation to use the kill switch.'
              : `Only ${rolesWith('orgs.suspend').join(', ')} may use the kill switch.`}
          </p>
        )}
      </Section>
    </div>
  );
}
