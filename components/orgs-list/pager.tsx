import Link from 'next/link';
import { num } from '@/lib/format';

const LINK =
  'rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 hover:bg-slate-100';

/** Previous and Next (each only when there is such a page) around "Page n of m", as links carrying the search and the cursor. */
export function Pager(props: {
  search: Record<string, string>;
  prev: string | null;
  next: string | null;
  page: number;
  pages: number;
}) {
  const href = (cursor: Record<string, string>) =>
    `/orgs?${new URLSearchParams({ ...props.search, ...cursor })}`;
  return (
    <nav aria-label="Pages" className="flex items-center gap-3">
      {props.prev && (
        <Link href={href({ before: props.prev })} rel="prev" className={LINK}>
          ← Previous
        </Link>
      )}
      <span className="text-sm text-slate-600 tabular-nums">
        Page {num(props.page)} of {num(props.pages)}
      </span>
      {props.next && (
        <Link href={href({ after: props.next })} rel="next" className={LINK}>
          Next →
        </Link>
      )}
    </nav>
  );
}
