'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { ApprovalsBadge } from '@/components/approvals/approvals-badge';
import { currentEntry, type NavGroup } from './nav';

/**
 * The grouped sidebar. The current page's entry carries aria-current="page"; on a page below an entry (an
 * organisation under Organisations) the entry carries aria-current="true". Both are highlighted.
 */
export function Sidebar({ groups }: { groups: NavGroup[] }) {
  const pathname = usePathname();
  const current = currentEntry(groups, pathname);
  return (
    <nav aria-label="Main" className="space-y-5 px-3 py-5 text-sm">
      {groups.map((g) => {
        const id = `nav-${g.label.toLowerCase()}`;
        return (
          <div key={g.label} role="group" aria-labelledby={id}>
            <p id={id} className="px-2 text-xs font-semibold tracking-wide text-slate-600 uppercase">
              {g.label}
            </p>
            <ul className="mt-1 space-y-0.5">
              {g.items.map((item) => {
                const here = current?.href === item.href;
                return (
                  <li key={item.href}>
                    <Link
                      href={item.href}
                      aria-current={here ? (current.exact ? 'page' : 'true') : undefined}
                      className={`block rounded-md px-2 py-1.5 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 ${
                        here
                          ? 'bg-slate-900 font-medium text-white'
                          : 'text-slate-700 hover:bg-slate-200 hover:text-slate-900'
                      }`}
                    >
                      {item.label}
                      {item.href === '/approvals' && <ApprovalsBadge />}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </nav>
  );
}
