import { utc } from '@/lib/format';
import type { WitnessBadge as Badge } from '@/lib/queries/audit-chain';

const TONE = {
  cosigned: 'border-emerald-300 bg-emerald-50 text-emerald-900',
  refused: 'border-red-300 bg-red-50 text-red-900',
  invalid: 'border-red-300 bg-red-50 text-red-900',
  unreachable: 'border-amber-300 bg-amber-50 text-amber-900',
  not_sent: 'border-slate-300 bg-slate-50 text-slate-600',
} as const;

/** What one witness answered for one checkpoint (docs/AUDIT.md, "Witnesses"). */
export function WitnessBadge({ badge }: { badge: Badge }) {
  let text: string;
  switch (badge.outcome) {
    case 'cosigned':
      text = `cosigned ${utc(badge.cosignedAt)}`;
      break;
    case 'refused':
      text = `${badge.alarm ? 'ALARM, another history: ' : ''}refused${badge.httpStatus ? ` (${badge.httpStatus})` : ''}: ${badge.reason ?? ''}`;
      break;
    case 'unreachable':
      text = `unreachable: ${badge.reason ?? ''}`;
      break;
    case 'invalid':
      text = `invalid answer: ${badge.reason ?? ''}`;
      break;
    case 'not_sent':
      text = 'not sent';
  }
  return (
    <span
      className={`inline-block rounded-md border px-2 py-0.5 text-xs ${TONE[badge.outcome]}`}
      title={badge.witnessUrl}
      data-witness={badge.witnessName}
      data-outcome={badge.outcome}
    >
      <span className="font-medium">{badge.witnessName}</span> {text}
    </span>
  );
}
