import type { Metadata } from 'next';
import Link from 'next/link';
import { AuditTable } from '@/components/audit/audit-table';
import { BrokenHeadAlert } from '@/components/audit-chain/broken-head-alert';
import { AuditPager } from '@/components/audit/pager';
import { AuditSearchForm } from '@/components/audit/search-form';
import { Alert } from '@/components/ui/alert';
import { SEARCH_KEYS, searchParamsOf } from '@/lib/audit/filter';
import { fieldLabel } from '@/lib/field-labels';
import { requireStaffPage } from '@/lib/auth/current';
import { can } from '@/lib/auth/permissions';
import { ValidationError } from '@/lib/errors';
import { listAudit, staffEmails } from '@/lib/queries/audit';
import { brokenHead } from '@/lib/queries/audit-chain';
import { EmptyState } from '@/components/ui/empty-state';

export const metadata: Metadata = { title: 'Audit log' };

export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const ctx = await requireStaffPage('audit.read');
  const params = await searchParams;
  const [result, emails, head] = await Promise.all([
    listAudit(ctx, params).catch((err: unknown) => {
      if (err instanceof ValidationError) return err;
      throw err;
    }),
    staffEmails(ctx),
    brokenHead(ctx),
  ]);
  // The search as the form, the page links and the export carry it on: the filters, never a cursor.
  const search = searchParamsOf(params);
  const invalid = result instanceof ValidationError;
  const elsewhere = invalid
    ? Object.entries(result.fields).filter(([key]) => !(SEARCH_KEYS as readonly string[]).includes(key))
    : [];
  return (
    <section className="space-y-4">
      <div className="flex flex-wrap items-baseline justify-between gap-3">
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <nav aria-label="Audit" className="flex gap-4 text-sm">
          {can(ctx.role, 'audit.export') && !invalid && (
            <a
              href={`/api/audit/export?${new URLSearchParams(search)}`}
              download
              className="text-sky-700 hover:underline"
            >
              Download OCSF export (NDJSON)
            </a>
          )}
          <Link href="/audit/siem" className="text-sky-700 hover:underline">
            SIEM delivery
          </Link>
        </nav>
      </div>
      <BrokenHeadAlert head={head} />
      <p className="text-sm text-slate-600">
        Newest first. Every write in the portal has one entry here, chained with HMAC; secrets are never
        shown. The export has the entries this search finds, oldest first, and is itself recorded here.
      </p>
      <AuditSearchForm values={search} errors={invalid ? result.fields : {}} staffEmails={emails} />
      {invalid ? (
        // A search field's error is next to it (the search form), so the alert only says where to look;
        // others (a broken page link) are said here.
        <Alert tone="error">
          {elsewhere.length === 0
            ? `The filter is not valid: correct the field${Object.keys(result.fields).length === 1 ? '' : 's'} marked above.`
            : `The filter is not valid. ${elsewhere.map(([key, m]) => `${fieldLabel(key)}: ${m}`).join(' ')}`}
        </Alert>
      ) : result.rows.length === 0 ? (
        <EmptyState>No audit entry matches this search.</EmptyState>
      ) : (
        <>
          <AuditTable rows={result.rows} />
          <AuditPager search={search} newer={result.newer} older={result.older} />
        </>
      )}
    </section>
  );
}
