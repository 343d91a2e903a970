import type { Metadata } from 'next';
import Link from 'next/link';
import { Figure, OverviewCard } from '@/components/overview/card';
import { EmptyState } from '@/components/ui/empty-state';
import { requireStaffPage } from '@/lib/auth/current';
import { ago, duration, num, utc } from '@/lib/format';
import { type ChainState, overview, type PoolState } from '@/lib/queries/overview';
import type { SiemStatus } from '@/lib/queries/siem';
import { LIMIT_LABELS } from '@/lib/rate-limits';
import { TableHead } from '@/components/ui/table-head';

export const metadata: Metadata = { title: 'Overview' };

const LINK = 'text-sky-700 hover:underline';

/**
 * The overview: what needs a look now, each figure read by the query of its own page and linked to it.
 * Sections the role may not read are left out; a source the portal cannot read says "cannot tell".
 */
export default async function OverviewPage() {
  const ctx = await requireStaffPage();
  const o = await overview(ctx);
  const now = new Date();
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Overview</h1>
        <p className="mt-1 text-sm text-slate-600">
          Signed in as {ctx.displayName} ({ctx.email}), role <strong>{ctx.role}</strong>. As of {utc(now)};
          reload for newer figures.
        </p>
      </div>
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2 2xl:grid-cols-3">
        {o.acting && (
          <OverviewCard
            id="acting"
            title="Staff acting for organisations"
            href="/acting"
            tone={o.acting.length ? 'warn' : 'ok'}
          >
            <Figure testId="acting-open" value={num(o.acting.length)} label="open now" />
            {o.acting.length === 0 ? (
              <EmptyState compact>No one is acting for an organisation.</EmptyState>
            ) : (
              <ul className="mt-2 space-y-1 text-sm">
                {o.acting.slice(0, 5).map((a) => (
                  <li key={a.id} data-context-id={a.id}>
                    {a.staffEmail} for{' '}
                    <Link href={`/orgs/${a.orgId}`} className={LINK}>
                      {a.orgName}
                    </Link>{' '}
                    <span className="text-slate-500">
                      ({a.ticketRef}), expires {utc(a.expiresAt)}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </OverviewCard>
        )}
        {o.orgs && (
          <OverviewCard
            id="orgs"
            title="Suspended or blocked organisations"
            href="/orgs?status=suspended"
            tone={o.orgs.suspended + o.orgs.blocked > 0 ? 'warn' : 'ok'}
          >
            <div className="flex gap-6">
              <Figure testId="orgs-suspended" value={num(o.orgs.suspended)} label="suspended" />
              <Figure testId="orgs-blocked" value={num(o.orgs.blocked)} label="blocked by a limit of 0" />
            </div>
            {o.orgs.suspended + o.orgs.blocked === 0 ? (
              <EmptyState compact>Every organisation is active and has traffic allowed.</EmptyState>
            ) : (
              <ul className="mt-2 space-y-1 text-sm">
                {o.orgs.suspendedList.map((org) => (
                  <li key={`s-${org.id}`}>
                    <Link href={`/orgs/${org.id}`} className={LINK}>
                      {org.name}
                    </Link>{' '}
                    <span className="text-slate-500">suspended</span>
                  </li>
                ))}
                {o.orgs.blockedList.map((org) => (
                  <li key={`b-${org.id}`}>
                    <Link href={`/orgs/${org.id}`} className={LINK}>
                      {org.name}
                    </Link>{' '}
                    <span className="text-slate-500">
                      blocked: {org.zero.map((k) => LIMIT_LABELS[k].toLowerCase()).join(', ')} 0
                    </span>
                  </li>
                ))}
                {o.orgs.suspended > o.orgs.suspendedList.length && (
                  <li>
                    <Link href="/orgs?status=suspended" className={LINK}>
                      All {num(o.orgs.suspended)} suspended organisations
                    </Link>
                  </li>
                )}
              </ul>
            )}
          </OverviewCard>
        )}
        <OverviewCard
          id="approvals"
          title="Two-person approvals"
          href="/approvals"
          tone={o.approvals.breakGlassUnreviewed > 0 ? 'bad' : o.approvals.waitingForYou > 0 ? 'warn' : 'ok'}
        >
          <div className="flex gap-6">
            <Figure
              testId="approvals-waiting"
              value={num(o.approvals.waitingForYou)}
              label="waiting for you"
            />
            <Figure
              testId="break-glass-unreviewed"
              value={num(o.approvals.breakGlassUnreviewed)}
              label="break-glass not reviewed"
            />
          </div>
        </OverviewCard>
        {o.pool && <PoolCard pool={o.pool} />}
        {o.chain && <ChainCard chain={o.chain} now={now} />}
        {o.siem && <SiemCard siem={o.siem} now={now} />}
        {o.audit && (
          <OverviewCard
            id="audit"
            title="Newest audit entries"
            href="/audit"
            className="lg:col-span-2 2xl:col-span-3"
          >
            {o.audit.length === 0 ? (
              <EmptyState compact>The audit log has no entries yet.</EmptyState>
            ) : (
              <table className="w-full border-collapse text-left text-sm">
                <caption className="sr-only">The newest audit entries, newest first</caption>
                <TableHead columns={['Seq', 'When (UTC)', 'Action', 'Actor', 'Organisation', 'Outcome']} />
                <tbody>
                  {o.audit.map((e) => (
                    <tr key={e.seq} data-seq={e.seq} className="border-b border-slate-100 whitespace-nowrap">
                      <td className="py-1.5 pr-4 tabular-nums">
                        <Link href={`/audit/${e.seq}`} className={LINK}>
                          {num(e.seq)}
                        </Link>
                      </td>
                      <td className="py-1.5 pr-4 tabular-nums">{utc(e.occurredAt)}</td>
                      <td className="py-1.5 pr-4 font-mono text-xs">{e.action}</td>
                      <td className="py-1.5 pr-4">{e.actorEmail ?? 'system'}</td>
                      <td className="py-1.5 pr-4">
                        {e.orgId && e.orgName ? (
                          <Link href={`/orgs/${e.orgId}`} className={LINK}>
                            {e.orgName}
                          </Link>
                        ) : (
                          (e.orgId ?? '—')
                        )}
                      </td>
                      <td className={`py-1.5 ${e.outcome === 'success' ? '' : 'font-medium text-red-700'}`}>
                        {e.outcome}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </OverviewCard>
        )}
      </div>
    </div>
  );
}

function PoolCard({ pool }: { pool: PoolState }) {
  if (pool.state === 'unknown') {
    return (
      <OverviewCard id="pool" title="GPU pool alerts" href="/pool" tone="warn">
        <p data-testid="pool-state" className="text-sm font-medium text-amber-900">
          Cannot tell: the portal could not read the pool.
        </p>
        <p className="mt-1 text-sm text-slate-600">{pool.reason}</p>
      </OverviewCard>
    );
  }
  const { alerts, unknown } = pool;
  return (
    <OverviewCard
      id="pool"
      title="GPU pool alerts"
      href="/pool"
      tone={alerts.length > 0 ? 'bad' : unknown.length > 0 ? 'warn' : 'ok'}
    >
      <Figure
        testId="pool-alerts"
        value={num(alerts.length)}
        label={alerts.length === 1 ? 'alert firing' : 'alerts firing'}
      />
      <ul className="mt-2 space-y-1 text-sm">
        {alerts.map((a) => (
          <li key={a.id} className="text-red-800">
            <strong>{a.title}</strong>: {a.detail}
          </li>
        ))}
        {unknown.map((u) => (
          <li key={u.id} className="text-amber-900">
            {u.title}: {u.reason}
          </li>
        ))}
      </ul>
      <p data-testid="pool-state" className="mt-2 text-xs text-slate-500">
        {alerts.length === 0 && unknown.length === 0
          ? `No alerts: every alert was evaluated at ${utc(pool.asOf)}.`
          : unknown.length > 0
            ? `Cannot tell for ${num(unknown.length)} of the alerts (as of ${utc(pool.asOf)}).`
            : `As of ${utc(pool.asOf)}.`}
      </p>
    </OverviewCard>
  );
}

function ChainCard({ chain, now }: { chain: ChainState; now: Date }) {
  const age = chain.lastCheckpoint
    ? (now.getTime() - new Date(chain.lastCheckpoint.signedAt).getTime()) / 1000
    : null;
  const late = age === null || age > 2 * chain.checkpointEveryS;
  const run = chain.lastRun;
  const runBad = run && (run.status === 'broken' || run.status === 'failed' || run.status === 'interrupted');
  return (
    <OverviewCard
      id="chain"
      title="Audit chain"
      href="/audit/verify"
      tone={chain.broken || runBad ? 'bad' : late ? 'warn' : 'ok'}
    >
      <Figure testId="chain-head" value={num(chain.headSeq)} label="entries on the chain" />
      <dl className="mt-2 grid grid-cols-[9rem_1fr] gap-y-1 text-sm">
        <dt className="text-slate-500">Head</dt>
        <dd data-testid="chain-head-state" className={chain.broken ? 'font-medium text-red-700' : ''}>
          {chain.broken
            ? `Broken at seq ${num(chain.broken.seq)}: ${chain.broken.problem}; ${num(chain.broken.waiting)} entries wait in the inbox`
            : 'verifies'}
        </dd>
        {run !== undefined && (
          <>
            <dt className="text-slate-500">Last verification</dt>
            <dd data-testid="chain-last-run">
              {run === null ? (
                'never run'
              ) : (
                <>
                  <span className={runBad ? 'font-medium text-red-700' : ''}>{run.status}</span>, seq{' '}
                  {num(run.fromSeq)}–{num(run.toSeq)},{' '}
                  {run.finishedAt
                    ? `finished ${utc(run.finishedAt)} (${ago(run.finishedAt, now)})`
                    : `started ${utc(run.startedAt)}`}
                </>
              )}
            </dd>
          </>
        )}
        <dt className="text-slate-500">Last checkpoint</dt>
        <dd data-testid="chain-checkpoint" className={late ? 'font-medium text-amber-900' : ''}>
          {chain.lastCheckpoint ? (
            <>
              <Link href="/audit/checkpoints" className={LINK}>
                seq {num(chain.lastCheckpoint.seq)}
              </Link>
              , signed {utc(chain.lastCheckpoint.signedAt)} ({ago(chain.lastCheckpoint.signedAt, now)})
            </>
          ) : (
            'none signed yet'
          )}
          {late && <span className="block text-xs">expected every {duration(chain.checkpointEveryS)}</span>}
        </dd>
      </dl>
    </OverviewCard>
  );
}

function SiemCard({ siem, now }: { siem: SiemStatus; now: Date }) {
  const off = siem.destination === null;
  const failing = siem.problem !== null || siem.failures > 0;
  return (
    <OverviewCard
      id="siem"
      title="SIEM delivery"
      href="/audit/siem"
      tone={off ? 'neutral' : failing ? 'bad' : siem.lagEntries > 0 ? 'warn' : 'ok'}
    >
      <Figure testId="siem-lag" value={num(siem.lagEntries)} label="entries not yet delivered" />
      <dl className="mt-2 grid grid-cols-[9rem_1fr] gap-y-1 text-sm">
        <dt className="text-slate-500">Delivery</dt>
        <dd data-testid="siem-state">
          {off
            ? 'off: SPLUNK_HEC_URL is not set'
            : siem.problem
              ? `cannot run: ${siem.problem}`
              : `to ${siem.destination}`}
        </dd>
        <dt className="text-slate-500">Oldest waiting</dt>
        <dd>
          {siem.oldestPendingAt
            ? `${utc(siem.oldestPendingAt)} (${ago(siem.oldestPendingAt, now)})`
            : 'nothing waits'}
        </dd>
        {!off && (
          <>
            <dt className="text-slate-500">Last delivered</dt>
            <dd>
              {siem.lastSuccessAt ? `${utc(siem.lastSuccessAt)} (${ago(siem.lastSuccessAt, now)})` : 'never'}
            </dd>
          </>
        )}
        {siem.lastError && (
          <>
            <dt className="text-slate-500">Last error</dt>
            <dd className="text-red-700">
              {siem.lastError} ({utc(siem.lastErrorAt)})
            </dd>
          </>
        )}
      </dl>
    </OverviewCard>
  );
}
