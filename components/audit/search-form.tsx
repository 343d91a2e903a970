import Form from 'next/form';
import Link from 'next/link';
import { FieldError } from '@/components/orgs/fields';
import { AuditAction } from '@/lib/audit/actions';
import { OUTCOMES } from '@/lib/audit/filter';

const CONTROL =
  'mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm placeholder:text-slate-500 aria-invalid:border-red-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500';

export type AuditSearchValues = Partial<
  Record<'org' | 'actor' | 'context' | 'action' | 'outcome' | 'from' | 'to', string>
>;

/** The actions grouped by their first word (`org`, `staff`, …), for the action list. */
const ACTION_GROUPS: Array<[string, string[]]> = [];
for (const action of AuditAction.options) {
  const group = action.split('.')[0]!;
  const found = ACTION_GROUPS.find(([g]) => g === group);
  if (found) found[1].push(action);
  else ACTION_GROUPS.push([group, [action]]);
}

/*
 * Times are typed as ISO 8601 in UTC with a 24-hour clock (`2026-11-23 15:20`), as the portal shows them:
 * a datetime-local input would show the browser's own zone and clock. What the URL holds is shown as it is,
 * so a time that is not valid stays in the field next to its error.
 */

/**
 * The /audit filters as a GET form: the search goes into the URL (and any page cursor is dropped), so a
 * search can be shared and bookmarked; keyboard-only and without JavaScript it works the same.
 */
export function AuditSearchForm(props: {
  values: AuditSearchValues;
  errors: Record<string, string>;
  staffEmails: string[];
}) {
  const { values, errors } = props;
  const field = (name: keyof AuditSearchValues) => ({
    id: `audit-${name}`,
    name,
    ...(errors[name] && { 'aria-invalid': true, 'aria-describedby': `audit-${name}-error` }),
  });
  const label = (name: string, text: string, hint?: string) => (
    <label htmlFor={`audit-${name}`} className="block text-sm font-medium text-slate-700">
      {text}
      {hint && <span className="font-normal text-slate-500"> ({hint})</span>}
    </label>
  );
  return (
    <Form
      key={JSON.stringify(values)}
      action="/audit"
      role="search"
      aria-label="Audit log"
      className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-2 lg:grid-cols-4"
    >
      <div>
        {label('org', 'Organisation', 'slug or id')}
        <input
          {...field('org')}
          type="text"
          defaultValue={values.org}
          placeholder="harbor-point-cu"
          className={CONTROL}
        />
        <FieldError id="audit-org-error" error={errors.org} />
      </div>
      <div>
        {label('actor', 'Staff member', 'e-mail or id')}
        <input
          {...field('actor')}
          type="text"
          list="audit-staff-emails"
          autoComplete="off"
          defaultValue={values.actor}
          placeholder="name@arbitex.ai"
          className={CONTROL}
        />
        <datalist id="audit-staff-emails">
          {props.staffEmails.map((e) => (
            <option key={e} value={e} />
          ))}
        </datalist>
        <FieldError id="audit-actor-error" error={errors.actor} />
      </div>
      <div>
        {label('context', 'Acting context', 'id')}
        <input
          {...field('context')}
          type="text"
          defaultValue={values.context}
          className={`${CONTROL} font-mono`}
        />
        <FieldError id="audit-context-error" error={errors.context} />
      </div>
      <div>
        {label('action', 'Action')}
        <select {...field('action')} defaultValue={values.action ?? ''} className={CONTROL}>
          <option value="">Any action</option>
          {ACTION_GROUPS.map(([group, actions]) => (
            <optgroup key={group} label={group}>
              {actions.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        <FieldError id="audit-action-error" error={errors.action} />
      </div>
      <div>
        {label('outcome', 'Outcome')}
        <select {...field('outcome')} defaultValue={values.outcome ?? ''} className={CONTROL}>
          <option value="">Any outcome</option>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
        <FieldError id="audit-outcome-error" error={errors.outcome} />
      </div>
      <div>
        {label('from', 'From', 'YYYY-MM-DD HH:MM UTC, inclusive')}
        <input
          {...field('from')}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          placeholder="YYYY-MM-DD HH:MM"
          defaultValue={values.from}
          className={CONTROL}
        />
        <FieldError id="audit-from-error" error={errors.from} />
      </div>
      <div>
        {label('to', 'To', 'YYYY-MM-DD HH:MM UTC, exclusive')}
        <input
          {...field('to')}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          placeholder="YYYY-MM-DD HH:MM"
          defaultValue={values.to}
          className={CONTROL}
        />
        <FieldError id="audit-to-error" error={errors.to} />
      </div>
      <div className="flex items-end gap-3">
        <button
          type="submit"
          className="rounded-md bg-slate-900 px-3 py-2 text-sm font-medium text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:ring-offset-2"
        >
          Search
        </button>
        <Link href="/audit" className="py-2 text-sm text-sky-700 hover:underline">
          Clear
        </Link>
      </div>
    </Form>
  );
}
