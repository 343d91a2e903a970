import type { Metadata } from 'next';
import { OrgsTable } from '@/components/orgs-list/orgs-table';
import { Pager } from '@/components/orgs-list/pager';
import { OrgSearchForm, type SearchValues } from '@/components/orgs-list/search-form';
import { Alert } from '@/components/ui/alert';
import { EmptyState } from '@/components/ui/empty-state';
import { requireStaffPage } from '@/lib/auth/current';
import { ValidationError } from '@/lib/errors';
import { num } from '@/lib/format';
import { listOrgs } from '@/lib/queries/orgs';

export const metadata: Metadata = { title: 'Organisations' };

const SEARCH_KEYS = ['q', 'tier', 'status', 'over', 'sort', 'size'] as const;

export default async function OrgsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const ctx = await requireStaffPage('orgs.read');
  const params = await searchParams;
  const result = await listOrgs(ctx, params).catch((err: unknown) => {
    if (err instanceof ValidationError) return err;
    throw err;
  });
  // The search as the form and the page links carry it on: the filters only, never a cursor.
  const search: SearchValues & Record<string, string> = {};
  for (const key of SEARCH_KEYS) {
    const v = params[key];
    if (typeof v === 'string' && v.trim() !== '') search[key] = v;
  }
  const invalid = result instanceof ValidationError;
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Organisations</h1>
      <OrgSearchForm values={search} errors={invalid ? result.fields : {}} />
      {invalid ? (
        <Alert tone="error">This search is not valid: {result.message}</Alert>
      ) : result.rows.length === 0 ? (
        <EmptyState
          hint={Object.keys(search).length > 0 ? 'Clear the search to see every organisation.' : undefined}
        >
          No organisation matches this search.
        </EmptyState>
      ) : (
        <>
          <p className="text-sm text-slate-600" data-testid="orgs-summary">
            <span data-testid="orgs-total" className="font-medium text-slate-900 tabular-nums">
              {num(result.total)}
            </span>{' '}
            {result.total === 1 ? 'organisation matches' : 'organisations match'} · page{' '}
            <span data-testid="orgs-page">{num(result.page)}</span> of {num(result.pages)}
          </p>
          <OrgsTable rows={result.rows} sort={result.sort} search={search} />
          <Pager
            search={search}
            prev={result.prev}
            next={result.next}
            page={result.page}
            pages={result.pages}
          />
        </>
      )}
    </section>
  );
}
