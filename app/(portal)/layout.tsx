import Link from 'next/link';
import type { ReactNode } from 'react';
import { ActingBanner } from '@/components/acting/acting-banner';
import { SignOutButton } from '@/components/auth/sign-out-button';
import { DevBanner } from '@/components/dev-banner';
import { navFor } from '@/components/shell/nav';
import { Sidebar } from '@/components/shell/sidebar';
import { requireStaffPage } from '@/lib/auth/current';

// The shell only; every page below checks the session and its permission again itself, because a
// layout does not re-render on client navigation.
export default async function PortalLayout({ children }: { children: ReactNode }) {
  const staff = await requireStaffPage();
  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:shadow"
      >
        Skip to content
      </a>
      <DevBanner />
      {staff.openActing && (
        <ActingBanner
          orgName={staff.openActing.orgName}
          orgSlug={staff.openActing.orgSlug}
          reason={staff.openActing.reason}
          ticketRef={staff.openActing.ticketRef}
          expiresAt={staff.openActing.expiresAt.toISOString()}
        />
      )}
      <header className="border-b border-slate-200 bg-white">
        <div className="flex items-center gap-6 px-6 py-3">
          <Link href="/" className="flex items-center gap-2 text-sm font-semibold">
            <svg aria-hidden="true" viewBox="0 0 32 32" className="h-5 w-5">
              <rect width="32" height="32" rx="6" fill="#0f172a" />
              <path d="M9 23 16 8l7 15h-4l-3-7-3 7z" fill="#fff" />
            </svg>
            Arbitex staff
          </Link>
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="text-slate-600">
              {staff.displayName} · <span className="font-medium">{staff.role}</span>
            </span>
            <SignOutButton />
          </div>
        </div>
      </header>
      <div className="flex flex-1">
        <aside className="w-52 shrink-0 border-r border-slate-200 bg-slate-100">
          <Sidebar groups={navFor(staff.role)} />
        </aside>
        <main id="main" className="min-w-0 flex-1 px-6 py-6">
          {children}
        </main>
      </div>
    </div>
  );
}
