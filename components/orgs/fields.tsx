import type { InputHTMLAttributes, ReactNode } from 'react';
import { Alert } from '@/components/ui/alert';

const INPUT =
  'mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm placeholder:text-slate-500 aria-invalid:border-red-500';

/** A labelled input with an optional hint and the server's field error, tied to it for screen readers. */
export function TextField({
  id,
  label,
  hint,
  error,
  className,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
}) {
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
        {hint && <span className="font-normal text-slate-500"> ({hint})</span>}
      </label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        className={INPUT}
        {...input}
      />
      <FieldError id={`${id}-error`} error={error} />
    </div>
  );
}

export function CheckboxField({
  label,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> & { label: ReactNode }) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <input type="checkbox" {...input} />
      {label}
    </label>
  );
}

export function FieldError({ id, error }: { id?: string; error?: string }) {
  return error ? (
    <p id={id} className="mt-1 text-xs text-red-700">
      {error}
    </p>
  ) : null;
}

/**
 * After a stale edit (409): what the server has now, next to the user's values, which stay in the form.
 * Saving again replaces the current values, because the form then sends their version.
 */
export function ConflictNote({
  current,
  none,
}: {
  current: Array<[string, ReactNode]> | null;
  none: string;
}) {
  return (
    <Alert tone="warning">
      <p className="font-medium">Someone else changed this since you loaded the page.</p>
      {current ? (
        <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-3">
          {current.map(([label, value]) => (
            <div key={label} className="contents">
              <dt>{label}</dt>
              <dd data-testid="conflict-current">{value}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p>{none}</p>
      )}
      <p className="mt-1">Your values are still in the form: save again to replace the current ones.</p>
    </Alert>
  );
}

/** "Type the organisation's slug to confirm", before a write that blocks it. */
export function SlugConfirmField(props: {
  id: string;
  slug: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <TextField
      id={props.id}
      label={
        <>
          Type the organisation’s slug, <span className="font-mono">{props.slug}</span>, to confirm
        </>
      }
      autoComplete="off"
      spellCheck={false}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value)}
    />
  );
}
