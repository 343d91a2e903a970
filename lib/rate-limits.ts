import { z } from 'zod';
import { can, type Permission } from '@/lib/auth/permissions';
import { num } from '@/lib/format';
import type { StaffRole } from '@/lib/auth/roles';

/** The four limits an organisation has: its plan tier's default, its own value, or a time-boxed override. */
export const LIMIT_KEYS = [
  'requestsPerMinute',
  'tokensPerMinute',
  'concurrentRequests',
  'monthlyRequestQuota',
] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];
export type Limits = Record<LimitKey, number | null>;

export const LIMIT_LABELS: Record<LimitKey, string> = {
  requestsPerMinute: 'Requests per minute',
  tokensPerMinute: 'Tokens per minute',
  concurrentRequests: 'Concurrent requests',
  monthlyRequestQuota: 'Monthly request quota',
};

/** Upper bounds: well above the largest tier default, and within the columns' integer types. */
export const LIMIT_MAX: Record<LimitKey, number> = {
  requestsPerMinute: 1_000_000,
  tokensPerMinute: 1_000_000_000,
  concurrentRequests: 100_000,
  monthlyRequestQuota: 100_000_000_000,
};

/** The platform_org_config column of each limit (and `<column>_source`). */
export const LIMIT_COLUMNS = {
  requestsPerMinute: 'requests_per_minute',
  tokensPerMinute: 'tokens_per_minute',
  concurrentRequests: 'concurrent_requests',
  monthlyRequestQuota: 'monthly_request_quota',
} as const satisfies Record<LimitKey, string>;

/** The four limits of a row (an override, the organisation's own), null where it sets none. */
export function pickLimits(row: Partial<Limits> | null | undefined): Limits {
  return Object.fromEntries(LIMIT_KEYS.map((k) => [k, row?.[k] ?? null])) as Limits;
}

/** One limit: a whole number from 0 (blocked) to its bound, or null for "not set here". */
export function limitSchema(key: LimitKey) {
  const max = LIMIT_MAX[key];
  return z
    .int(`Enter a whole number from 0 to ${num(max)}, or leave it empty.`)
    .min(0, 'A limit cannot be negative.')
    .max(max, `At most ${num(max)}.`)
    .nullable();
}

/*
 * How far a write of limits may go, in one place (issue 14). The services enforce it, the forms show it.
 */

/** The longest a time-boxed override may last, with `orgs.rate_limits.override_extended`. */
export const MAX_OVERRIDE_DAYS = 30;
/** The longest without it: support's overrides. */
export const STANDARD_OVERRIDE_DAYS = 7;

export function overrideMaxDays(role: StaffRole): number {
  return can(role, 'orgs.rate_limits.override_extended') ? MAX_OVERRIDE_DAYS : STANDARD_OVERRIDE_DAYS;
}

/**
 * A 0 in any limit blocks the organisation as the kill switch does, whether in its own limits or in an
 * override, so it needs the kill switch's permission and a fresh security-key check.
 */
export const BLOCK_PERMISSION: Permission = 'orgs.suspend';
export const BLOCK_RULE = 'A limit of 0 blocks the organisation, like the kill switch.';

export function blocks(limits: Partial<Limits>): boolean {
  return LIMIT_KEYS.some((k) => limits[k] === 0);
}

export const BLOCKS_ALL_TRAFFIC = '0 blocks all traffic for this organisation. Confirm that it is meant.';

/** Field errors for each limit set to 0 without the explicit confirmation that 0 means "blocked". */
export function unconfirmedZeros(limits: Partial<Limits>, confirmBlocked: boolean): Record<string, string> {
  if (confirmBlocked) return {};
  return Object.fromEntries(LIMIT_KEYS.filter((k) => limits[k] === 0).map((k) => [k, BLOCKS_ALL_TRAFFIC]));
}
