import Link from 'next/link';
import type { ReactNode } from 'react';
import { ActingBanner } from '@/components/acting/acting-banner';
import { ApprovalsBadge } from '@/components/approvals/approvals-badge';
import { SignOutButton } from '@/components/auth/sign-out-button';
import { DevBanner } from '@/components/dev-banner';
import { can } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';

// The shell only; every page below checks the session and its permission again itself, because a
// layout does not re-render on client navigation.
export default async function PortalLayout({ children }: { children: ReactNode }) {
  const staff = await requireStaffPage();
  const nav = [
    { href: '/', label: 'Home', show: true },
    { href: '/orgs', label: 'Organisations', show: can(staff.role, 'orgs.read') },
    { href: '/pool', label: 'GPU pool', show: can(staff.role, 'pool.read') },
    { href: '/plans', label: 'Plans', show: can(staff.role, 'plans.read') },
    { href: '/acting', label: 'Acting', show: can(staff.role, 'acting.list') },
    { href: '/approvals', label: 'Approvals', show: true },
    { href: '/staff', label: 'Staff', show: can(staff.role, 'staff.read') },
    { href: '/audit', label: 'Audit log', show: can(staff.role, 'audit.read') },
    { href: '/audit/siem', label: 'SIEM', show: can(staff.role, 'audit.read') },
    { href: '/audit/verify', label: 'Verify chain', show: can(staff.role, 'audit.verify') },
    { href: '/audit/checkpoints', label: 'Checkpoints', show: can(staff.role, 'audit.read') },
    { href: '/audit/keys', label: 'Audit keys', show: can(staff.role, 'audit.verify') },
    { href: '/account/keys', label: 'My keys', show: true },
  ];
  return (
    <>
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
        <div className="mx-auto flex max-w-6xl items-center gap-6 px-6 py-3">
          <Link href="/" className="text-sm font-semibold">
            Arbitex staff
          </Link>
          <nav aria-label="Main" className="flex gap-4 text-sm">
            {nav
              .filter((n) => n.show)
              .map((n) => (
                <Link key={n.href} href={n.href} className="text-slate-600 hover:text-slate-900">
                  {n.label}
                  {n.href === '/approvals' && <ApprovalsBadge />}
                </Link>
              ))}
          </nav>
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="text-slate-600">
              {staff.displayName} · <span className="font-medium">{staff.role}</span>
            </span>
            <SignOutButton />
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-6 py-8">{children}</main>
    </>
  );
}
