'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

/** What a path under a list names, so the page can say what was not found rather than just "not found". */
const KINDS: Array<[RegExp, string, string, string]> = [
  [/^\/orgs\/([^/]+)$/, 'organisation', '/orgs', 'the organisation list'],
  [/^\/staff\/([^/]+)$/, 'staff member', '/staff', 'the staff list'],
  [/^\/audit\/([^/]+)$/, 'audit entry', '/audit', 'the audit log'],
];

/** Not found, inside the shell: names the address, and for an organisation, staff member or entry, its id. */
export default function NotFound() {
  const pathname = usePathname();
  const kind = KINDS.flatMap(([re, what, href, list]) => {
    const m = re.exec(pathname);
    return m ? [{ what, id: decodeURIComponent(m[1]!), href, list }] : [];
  })[0];
  return (
    <section className="max-w-2xl space-y-3">
      <h1 className="text-2xl font-semibold">Not found</h1>
      {kind ? (
        <p className="text-sm text-slate-700">
          There is no {kind.what} <code className="rounded bg-slate-100 px-1 font-mono">{kind.id}</code>. It
          may never have existed, or the link was cut short.
        </p>
      ) : (
        <p className="text-sm text-slate-700">
          There is no page at <code className="rounded bg-slate-100 px-1 font-mono">{pathname}</code> in the
          staff portal.
        </p>
      )}
      <p className="flex gap-4 text-sm">
        {kind && (
          <Link href={kind.href} className="text-sky-700 hover:underline">
            Back to {kind.list}
          </Link>
        )}
        <Link href="/" className="text-sky-700 hover:underline">
          Go to the overview
        </Link>
      </p>
    </section>
  );
}
