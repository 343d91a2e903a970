import Link from 'next/link';

const LINK =
  'rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 hover:bg-slate-100';

/** Newer and Older (each only when there is such a page), as links carrying the search and the cursor. */
export function AuditPager(props: {
  search: Record<string, string>;
  newer: number | null;
  older: number | null;
}) {
  const href = (cursor: Record<string, string>) =>
    `/audit?${new URLSearchParams({ ...props.search, ...cursor })}`;
  if (props.newer === null && props.older === null) return null;
  return (
    <nav aria-label="Pages" className="flex gap-3">
      {props.newer !== null && (
        <Link href={href({ after: String(props.newer) })} rel="prev" className={LINK}>
          ← Newer
        </Link>
      )}
      {props.older !== null && (
        <Link href={href({ before: String(props.older) })} rel="next" className={LINK}>
          Older →
        </Link>
      )}
    </nav>
  );
}
