import { can } from '@/lib/auth/permissions';
import type { StaffRole } from '@/lib/auth/roles';

export interface NavItem {
  href: string;
  label: string;
}

export interface NavGroup {
  label: string;
  items: NavItem[];
}

/**
 * The sidebar: the overview, then one group per kind of work. Each entry shows only for a role that may open
 * its page (the page checks again); a group with no entry left is not shown.
 */
export function navFor(role: StaffRole): NavGroup[] {
  const groups: Array<{ label: string; items: Array<NavItem & { show: boolean }> }> = [
    { label: 'Home', items: [{ href: '/', label: 'Overview', show: true }] },
    {
      label: 'Customers',
      items: [
        { href: '/orgs', label: 'Organisations', show: can(role, 'orgs.read') },
        { href: '/plans', label: 'Plans', show: can(role, 'plans.read') },
      ],
    },
    {
      label: 'Operations',
      items: [
        { href: '/pool', label: 'GPU pool', show: can(role, 'pool.read') },
        { href: '/acting', label: 'Acting contexts', show: can(role, 'acting.list') },
        // Every role sees who waits on whom; the badge counts what this person may approve.
        { href: '/approvals', label: 'Approvals', show: true },
      ],
    },
    {
      label: 'Audit',
      items: [
        { href: '/audit', label: 'Audit log', show: can(role, 'audit.read') },
        { href: '/audit/siem', label: 'SIEM delivery', show: can(role, 'audit.read') },
        { href: '/audit/verify', label: 'Verify chain', show: can(role, 'audit.verify') },
        { href: '/audit/checkpoints', label: 'Checkpoints', show: can(role, 'audit.read') },
      ],
    },
    {
      label: 'Administration',
      items: [
        { href: '/staff', label: 'Staff', show: can(role, 'staff.read') },
        { href: '/audit/keys', label: 'Audit keys', show: can(role, 'audit.verify') },
      ],
    },
    { label: 'Me', items: [{ href: '/account/keys', label: 'My security keys', show: true }] },
  ];
  return groups
    .map((g) => ({
      label: g.label,
      items: g.items.filter((i) => i.show).map(({ href, label }) => ({ href, label })),
    }))
    .filter((g) => g.items.length > 0);
}

/**
 * Which entry a path belongs to: the entry whose href is the longest prefix of it at a segment boundary
 * (`/audit/42` is the audit log's, `/audit/siem` SIEM's). `exact` when the path is the entry's own page.
 */
export function currentEntry(groups: NavGroup[], pathname: string): { href: string; exact: boolean } | null {
  let best: string | null = null;
  for (const item of groups.flatMap((g) => g.items)) {
    const match =
      item.href === '/' ? pathname === '/' : pathname === item.href || pathname.startsWith(`${item.href}/`);
    if (match && (best === null || item.href.length > best.length)) best = item.href;
  }
  return best === null ? null : { href: best, exact: best === pathname };
}
