/**
 * How the pool view writes its figures. `null` is a figure Prometheus did not report, and reads
 * "not reported", never 0. The e2e spec formats Prometheus's own answers with these to compare.
 */
export const NOT_REPORTED = 'not reported';

function fixed(value: number, digits: number): string {
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function count(v: number | null): string {
  return v === null ? NOT_REPORTED : fixed(Math.round(v), 0);
}

/** A percentage already in % (0–100). */
export function percent(v: number | null, digits = 0): string {
  return v === null ? NOT_REPORTED : `${fixed(v, digits)} %`;
}

/** A share from 0 to 1, as a percentage. */
export function share(v: number | null): string {
  return v === null ? NOT_REPORTED : `${fixed(v * 100, 2)} %`;
}

/** A figure with one decimal, e.g. a mean batch size. */
export function decimal(v: number | null): string {
  return v === null ? NOT_REPORTED : fixed(v, 1);
}

/** A burn rate: how many times as fast as allowed the error budget is spent. */
export function burn(v: number | null): string {
  return v === null ? NOT_REPORTED : `${fixed(v, 1)}×`;
}

export function perSecond(v: number | null): string {
  return v === null ? NOT_REPORTED : `${fixed(v, v < 10 ? 2 : 1)} /s`;
}

export function ms(v: number | null): string {
  return v === null ? NOT_REPORTED : `${fixed(v, 0)} ms`;
}

export function gib(mib: number | null): string {
  return mib === null ? NOT_REPORTED : `${fixed(mib / 1024, 1)} GiB`;
}

export function celsius(v: number | null): string {
  return v === null ? NOT_REPORTED : `${fixed(v, 0)} °C`;
}

export function watts(v: number | null): string {
  return v === null ? NOT_REPORTED : `${fixed(v, 1)} W`;
}

/** `12:03:44 UTC` */
export function clock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

/** `4 s`, `3 min`, `2 h`: how old something is. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
