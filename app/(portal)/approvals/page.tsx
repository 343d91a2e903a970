import type { Metadata } from 'next';
import Link from 'next/link';
import { OutcomeProvider } from '@/components/approvals/outcome';
import { RequestActions } from '@/components/approvals/request-actions';
import { DiffTable } from '@/components/audit/diff-table';
import { Alert } from '@/components/ui/alert';
import { requireStaffPage } from '@/lib/auth/current';
import { utc } from '@/lib/format';
import { APPROVAL_STATUSES, listApprovals } from '@/lib/queries/approvals';

export const metadata: Metadata = { title: 'Approvals' };

const LABELS: Record<(typeof APPROVAL_STATUSES)[number], string> = {
  pending: 'Pending',
  approved: 'Approved',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  expired: 'Expired',
  failed: 'Failed',
  break_glass: 'Break-glass',
};

/**
 * Requests for dual-controlled writes (lib/approvals): each shows the change exactly as the write would
 * apply it (the dry run's diff), who asked and until when, and what the viewer may do with it.
 */
export default async function ApprovalsPage({
  searchParams,
}: {
  searchParams: Promise<{ status?: string }>;
}) {
  const ctx = await requireStaffPage('orgs.read');
  const { status = 'pending' } = await searchParams;
  const current = (APPROVAL_STATUSES as readonly string[]).includes(status) ? status : 'pending';
  const [requests, unreviewed] = await Promise.all([
    listApprovals(ctx, { status: current }),
    current === 'break_glass' ? null : listApprovals(ctx, { status: 'break_glass' }),
  ]);
  const glass = (current === 'break_glass' ? requests : (unreviewed ?? [])).filter((r) => !r.reviewedAt);
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Approvals</h1>
      <p className="text-sm text-slate-600">
        The most dangerous writes need a second person: the kill switch, a limit of 0, a weaker MFA policy,
        taking away an enterprise entitlement, the Outpost CPU trial, granting admin or superadmin, leaving
        one superadmin alone, and rotating the audit or token keys. The request stores the change; another
        staff member with the same permission and a fresh key check applies it.
      </p>
      {glass.length > 0 && (
        <div
          role="alert"
          className="rounded-md border border-red-400 bg-red-700 px-4 py-3 text-sm text-white"
        >
          <p className="font-semibold">
            {glass.length} change{glass.length === 1 ? ' was' : 's were'} applied under break-glass without a
            second person and {glass.length === 1 ? 'is' : 'are'} not reviewed yet.
          </p>
          <ul className="mt-1 list-disc pl-5">
            {glass.map((g) => (
              <li key={g.id}>
                {g.summary}, by {g.deciderEmail} at {utc(g.decidedAt)} ({g.ticketRef}).{' '}
                {current !== 'break_glass' && (
                  <Link href="/approvals?status=break_glass" className="underline">
                    Review
                  </Link>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      <nav aria-label="Request status" className="flex flex-wrap gap-2 text-sm">
        {APPROVAL_STATUSES.map((s) => (
          <Link
            key={s}
            href={`/approvals?status=${s}`}
            aria-current={s === current ? 'page' : undefined}
            className={`rounded-full border px-3 py-1 ${s === current ? 'border-slate-900 bg-slate-900 text-white' : 'border-slate-300 text-slate-700 hover:bg-slate-100'}`}
          >
            {LABELS[s]}
          </Link>
        ))}
      </nav>
      <OutcomeProvider>
        {requests.length === 0 ? (
          <p className="rounded-md border border-dashed border-slate-300 p-6 text-center text-sm text-slate-600">
            No {LABELS[current as keyof typeof LABELS].toLowerCase()} requests.
          </p>
        ) : (
          <ul className="space-y-4">
            {requests.map((r) => (
              <li
                key={r.id}
                data-request-id={r.id}
                className="space-y-3 rounded-lg border border-slate-200 bg-white p-4"
                aria-labelledby={`request-${r.id}`}
              >
                <div className="flex flex-wrap items-baseline justify-between gap-2">
                  <h2 id={`request-${r.id}`} className="text-base font-semibold">
                    {r.summary}
                  </h2>
                  <span className="font-mono text-xs text-slate-500">{r.id.slice(0, 8)}</span>
                </div>
                <p className="text-sm text-slate-600">Needs a second person: {r.reason}</p>
                <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
                  <dt className="text-slate-500">Asked by</dt>
                  <dd>
                    {r.requesterEmail} at {utc(r.requestedAt)}
                  </dd>
                  {r.orgName && (
                    <>
                      <dt className="text-slate-500">Organisation</dt>
                      <dd>
                        <Link href={`/orgs/${r.orgId}`} className="text-sky-700 hover:underline">
                          {r.orgName}
                        </Link>
                        {r.orgVersion !== null && (
                          <span className="text-slate-500"> (version {r.orgVersion})</span>
                        )}
                      </dd>
                    </>
                  )}
                  {r.status === 'pending' ? (
                    <>
                      <dt className="text-slate-500">Expires</dt>
                      <dd>{utc(r.expiresAt)}</dd>
                    </>
                  ) : (
                    <>
                      <dt className="text-slate-500">{LABELS[r.status]}</dt>
                      <dd>
                        {r.deciderEmail ?? 'the portal'} at {utc(r.decidedAt ?? r.expiresAt)}
                        {r.decisionReason && <>: {r.decisionReason}</>}
                      </dd>
                    </>
                  )}
                  {r.status === 'break_glass' && (
                    <>
                      <dt className="text-slate-500">Reviewed</dt>
                      <dd>{r.reviewedAt ? `${r.reviewerEmail} at ${utc(r.reviewedAt)}` : 'not yet'}</dd>
                    </>
                  )}
                </dl>
                <details open={r.status === 'pending'}>
                  <summary className="cursor-pointer text-sm font-medium text-slate-700">
                    The change, exactly as it will be applied
                  </summary>
                  <div className="mt-2">
                    <DiffTable diff={r.diff} />
                  </div>
                </details>
                <RequestActions id={r.id} summary={r.summary} may={r.may} />
              </li>
            ))}
          </ul>
        )}
      </OutcomeProvider>
      {ctx.role === 'superadmin' && current === 'pending' && (
        <Alert tone="info">
          Alone during an incident? Break-glass on your own pending request applies it without a second
          person, with a reason and an incident ticket; it is flagged and must be reviewed by another
          superadmin.
        </Alert>
      )}
    </section>
  );
}
