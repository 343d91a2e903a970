import Link from 'next/link';

const LINK =
  'rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 hover:bg-slate-100';

/** Previous and Next (each only when there is such a page), as links carrying the search and the cursor. */
export function Pager(props: { search: Record<string, string>; prev: string | null; next: string | null }) {
  const href = (cursor: Record<string, string>) =>
    `/orgs?${new URLSearchParams({ ...props.search, ...cursor })}`;
  if (!props.prev && !props.next) return null;
  return (
    <nav aria-label="Pages" className="flex gap-3">
      {props.prev && (
        <Link href={href({ before: props.prev })} rel="prev" className={LINK}>
          ← Previous
        </Link>
      )}
      {props.next && (
        <Link href={href({ after: props.next })} rel="next" className={LINK}>
          Next →
        </Link>
      )}
    </nav>
  );
}
