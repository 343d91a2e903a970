import type { ReactNode } from 'react';

/**
 * "Nothing here", the same way on every page: what is empty, and (optionally) what to do about it. `compact`
 * inside a card or a section, full size where a whole list would be.
 */
export function EmptyState({
  children,
  hint,
  compact = false,
}: {
  children: ReactNode;
  hint?: ReactNode;
  compact?: boolean;
}) {
  return (
    <div
      data-empty-state=""
      className={`rounded-md border border-dashed border-slate-300 bg-white text-sm text-slate-600 ${compact ? 'px-3 py-2' : 'px-4 py-6 text-center'}`}
    >
      <p>{children}</p>
      {hint && <p className="mt-1 text-xs text-slate-500">{hint}</p>}
    </div>
  );
}
