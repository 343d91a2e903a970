import { num, shareOf } from '@/lib/format';
import { MFA_METHODS, type MfaMethod } from '@/lib/plans';

const SHORT: Record<MfaMethod, string> = { fido2: 'FIDO2', totp: 'TOTP', sms: 'SMS' };

/** An effective MFA policy in a table cell: `Required: FIDO2`, `Optional: any MFA`. */
export function mfaLabel(required: boolean, methods: readonly MfaMethod[]): string {
  const which =
    methods.length === MFA_METHODS.length
      ? 'any MFA'
      : MFA_METHODS.filter((m) => methods.includes(m))
          .map((m) => SHORT[m])
          .join(', ');
  return `${required ? 'Required' : 'Optional'}: ${which}`;
}

/** This month's requests against the quota: `12,345 / 100,000 (12 %)`; a quota of 0 blocks all traffic. */
export function usageLabel(requests: number | null, quota: number): string {
  const share = quota === 0 ? ' (blocked)' : requests === null ? '' : ` (${shareOf(requests, quota)})`;
  return `${num(requests)} / ${num(quota)}${share}`;
}
