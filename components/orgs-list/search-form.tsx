import Form from 'next/form';
import Link from 'next/link';
import { FieldError } from '@/components/orgs/fields';
import { PLAN_TIERS, TIER_LABELS } from '@/lib/plans';
import { ORGS_PAGE_SIZE, PAGE_SIZES } from '@/lib/queries/orgs';

const CONTROL =
  'mt-1 block rounded-md border border-slate-300 bg-white px-3 py-2 text-sm placeholder:text-slate-500 aria-invalid:border-red-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500';

export interface SearchValues {
  q?: string;
  tier?: string;
  status?: string;
  over?: string;
  sort?: string;
  size?: string;
}

/**
 * The /orgs search as a GET form: submitting it puts the search in the URL (and drops any page cursor),
 * so a search can be shared; it works with the keyboard alone and without JavaScript.
 */
export function OrgSearchForm({ values, errors }: { values: SearchValues; errors: Record<string, string> }) {
  const invalid = (field: string) =>
    errors[field] ? { 'aria-invalid': true, 'aria-describedby': `orgs-${field}-error` } : {};
  return (
    // Keyed on the values so that the fields show the search of the URL after a client-side navigation.
    <Form
      key={JSON.stringify(values)}
      action="/orgs"
      role="search"
      aria-label="Organisations"
      className="flex flex-wrap items-start gap-4 rounded-lg border border-slate-200 bg-white p-4"
    >
      {/* The sort is chosen with the column headers; a new search keeps it. */}
      {values.sort && <input type="hidden" name="sort" value={values.sort} />}
      <div className="max-w-md min-w-64 flex-1">
        <label htmlFor="orgs-q" className="block text-sm font-medium text-slate-700">
          Name, slug or id
        </label>
        <input
          id="orgs-q"
          name="q"
          type="search"
          defaultValue={values.q}
          placeholder="Start of a name, a slug, or an organisation id"
          className={`${CONTROL} w-full`}
          {...invalid('q')}
        />
        <FieldError id="orgs-q-error" error={errors.q} />
      </div>
      <div className="max-w-xs">
        <label htmlFor="orgs-tier" className="block text-sm font-medium text-slate-700">
          Plan tier
        </label>
        <select
          id="orgs-tier"
          name="tier"
          defaultValue={values.tier ?? ''}
          className={CONTROL}
          {...invalid('tier')}
        >
          <option value="">All tiers</option>
          {PLAN_TIERS.map((t) => (
            <option key={t} value={t}>
              {TIER_LABELS[t]}
            </option>
          ))}
        </select>
        <FieldError id="orgs-tier-error" error={errors.tier} />
      </div>
      <div className="max-w-xs">
        <label htmlFor="orgs-status" className="block text-sm font-medium text-slate-700">
          Status
        </label>
        <select
          id="orgs-status"
          name="status"
          defaultValue={values.status ?? ''}
          className={CONTROL}
          {...invalid('status')}
        >
          <option value="">Any status</option>
          <option value="active">Active</option>
          <option value="suspended">Suspended</option>
        </select>
        <FieldError id="orgs-status-error" error={errors.status} />
      </div>
      <div className="max-w-xs">
        <label htmlFor="orgs-size" className="block text-sm font-medium text-slate-700">
          Per page
        </label>
        <select
          id="orgs-size"
          name="size"
          defaultValue={values.size ?? String(ORGS_PAGE_SIZE)}
          className={CONTROL}
          {...invalid('size')}
        >
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <FieldError id="orgs-size-error" error={errors.size} />
      </div>
      <div className="max-w-xs pt-8">
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            name="over"
            value="1"
            defaultChecked={values.over === '1'}
            {...invalid('over')}
          />
          Over quota this month
        </label>
        <FieldError id="orgs-over-error" error={errors.over} />
      </div>
      <div className="flex items-center gap-3 pt-6">
        <button
          type="submit"
          className="rounded-md bg-slate-900 px-3 py-2 text-sm font-medium text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:ring-offset-2"
        >
          Search
        </button>
        <Link href="/orgs" className="text-sm text-sky-700 hover:underline">
          Clear
        </Link>
      </div>
    </Form>
  );
}
