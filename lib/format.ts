/** A time as staff read it across the portal: `2026-11-23 15:20:43 UTC`, or a dash when there is none. */
export function utc(value: Date | string | null | undefined): string {
  if (!value) return '—';
  return `${new Date(value).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}
