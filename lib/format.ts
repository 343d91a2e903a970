/** A time as staff read it across the portal: `2026-11-23 15:20:43 UTC`, or a dash when there is none. */
export function utc(value: Date | string | null | undefined): string {
  if (!value) return '—';
  return `${new Date(value).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** How long ago, in the largest whole unit: `12 s ago`, `4 min ago`, `2 h ago`, `3 d ago`; `never` for none. */
export function ago(value: Date | string | null | undefined, now = new Date()): string {
  if (!value) return 'never';
  const s = Math.max(0, Math.floor((now.getTime() - new Date(value).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** A count as staff read it: `1,000,000`, or a dash when there is none. */
export function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString('en');
}

/** A length of time in its largest whole unit: `72 hours`, `45 minutes`, `90 seconds`. */
export function duration(seconds: number): string {
  const [n, unit] =
    seconds % 3600 === 0
      ? [seconds / 3600, 'hour']
      : seconds % 60 === 0
        ? [seconds / 60, 'minute']
        : [seconds, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
