/**
 * One line that says what an audit entry changed, from its redacted diff (issue 16, item 5):
 * `plan_tier team_saas → enterprise_saas`. Pure, so the audit list (a server component) and tests share it.
 */

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_VALUE = 40;

/** A value in a summary: text as it is, a list joined, none as `—`, anything else as short JSON. */
export function summaryValue(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = '—';
  else if (typeof v === 'string') s = v === '' ? '""' : v;
  else if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) {
    s = v.length === 0 ? '[]' : v.map((x) => summaryValue(x)).join(', ');
  } else s = JSON.stringify(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The summary: for a before/after pair, each changed field as `field before → after` (at most `max`, then
 * `+N more`); a creation as `created: field value, …`; a deletion as `removed`; otherwise the facts the entry
 * records (`reason: locked`). An entry with no diff: the empty string.
 */
export function diffSummary(diff: unknown, max = 3): string {
  if (!isRecord(diff)) return '';
  const { before, after, ...facts } = diff;
  const parts: string[] = [];
  if (before !== undefined || after !== undefined) {
    if (isRecord(before) && isRecord(after)) {
      for (const f of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (!same(before[f], after[f])) {
          parts.push(`${f} ${summaryValue(before[f])} → ${summaryValue(after[f])}`);
        }
      }
      if (parts.length === 0) parts.push('no field changed');
    } else if ((before === null || before === undefined) && isRecord(after)) {
      parts.push(
        `created: ${Object.entries(after)
          .map(([k, v]) => `${k} ${summaryValue(v)}`)
          .join(', ')}`,
      );
    } else if (isRecord(before) && (after === null || after === undefined)) {
      parts.push('removed');
    } else {
      parts.push(`${summaryValue(before)} → ${summaryValue(after)}`);
    }
  } else {
    for (const [k, v] of Object.entries(facts)) parts.push(`${k}: ${summaryValue(v)}`);
  }
  if (parts.length <= max) return parts.join('; ');
  return `${parts.slice(0, max).join('; ')}; +${parts.length - max} more`;
}
