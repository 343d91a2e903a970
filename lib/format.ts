/**
 * The one place where the portal writes times and numbers for people (issue 16, item 8). Pages, forms,
 * tables, charts and the pool view all use these; nothing else calls toLocaleString, Intl or toISOString
 * to show a value.
 *
 * - Times: ISO 8601, UTC, 24-hour clock: `2026-11-23 15:20:43 UTC`; a date input takes `2026-11-23 15:20`
 *   (UTC too).
 * - Numbers: thousands separators, `1,000,000`; a fixed number of decimals where there are decimals.
 * - Percentages: one style, a space before the sign: `42 %`.
 * - A figure that was not reported reads "not reported", never 0.
 */

const iso = (value: Date | string | number) => new Date(value).toISOString();

/** A time as staff read it across the portal: `2026-11-23 15:20:43 UTC`, or a dash when there is none. */
export function utc(value: Date | string | null | undefined): string {
  if (!value) return '—';
  return `${iso(value).replace('T', ' ').slice(0, 19)} UTC`;
}

/** The same to the minute, where seconds say nothing: `2026-11-23 15:20 UTC`. */
export function utcMinute(value: Date | string | null | undefined): string {
  if (!value) return '—';
  return `${iso(value).replace('T', ' ').slice(0, 16)} UTC`;
}

/** A month: `2026-11`. */
export function utcMonth(value: Date | string): string {
  return iso(value).slice(0, 7);
}

/** The time of day: `12:03:44 UTC`. */
export function clock(value: Date | string | number): string {
  return `${iso(value).slice(11, 19)} UTC`;
}

/** A chart's time axis tick, 24-hour UTC: `15:20`, and the date at midnight: `2026-11-23`. */
export function chartTick(unixSeconds: number): string {
  const s = iso(unixSeconds * 1000);
  return s.slice(11, 16) === '00:00' ? s.slice(0, 10) : s.slice(11, 16);
}

/** What a date input shows and takes: `2026-11-23 15:20`, in UTC. */
export function utcInput(value: Date | string | null | undefined): string {
  if (!value) return '';
  return iso(value).replace('T', ' ').slice(0, 16);
}

export const UTC_INPUT_FORMAT = 'YYYY-MM-DD HH:MM, UTC';

/**
 * Reads a date input: `2026-11-23 15:20`, `2026-11-23T15:20`, with seconds, or a date alone (midnight),
 * always as UTC; a trailing `Z` or `UTC` is allowed. Gives the instant as ISO 8601, or null when it is not
 * such a time (or not a real date, such as 2026-02-30).
 */
export function parseUtcInput(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|UTC)?$/i.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  const date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s));
  // Date.UTC rolls 2026-02-30 over into March; a real date reads back the same.
  if (
    date.getUTCFullYear() !== +y! ||
    date.getUTCMonth() !== +mo! - 1 ||
    date.getUTCDate() !== +d! ||
    date.getUTCHours() !== +h ||
    date.getUTCMinutes() !== +mi ||
    date.getUTCSeconds() !== +s
  ) {
    return null;
  }
  return date.toISOString();
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

/** `4 s`, `3 min`, `2 h`: how old something is, from milliseconds. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** A live countdown: `29:05 left`, `1:02:09 left` from an hour, `expired` at zero. */
export function timeLeft(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000);
  const mmss = (m: number) => `${m}:${String(s % 60).padStart(2, '0')}`;
  if (s < 3600) return `${mmss(Math.floor(s / 60))} left`;
  return `${Math.floor(s / 3600)}:${mmss(Math.floor((s % 3600) / 60)).padStart(5, '0')} left`;
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

/** A number with thousands separators and exactly `digits` decimals: `1,234.50`. */
export function fixed(value: number, digits = 0): string {
  return value.toLocaleString('en', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: true,
  });
}

/** A count as staff read it: `1,000,000`, or a dash when there is none. */
export function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : fixed(value, 0);
}

/** A percentage of something already in percent (0–100): `42 %`. The one percent style. */
export function pct(value: number, digits = 0): string {
  return `${fixed(value, digits)} %`;
}

/** `part` of `whole` as a percentage, rounded down so that 99.9 % never reads 100 %; a dash for no whole. */
export function shareOf(part: number, whole: number): string {
  if (!(whole > 0)) return '—';
  return pct(Math.floor((part / whole) * 100));
}

/*
 * Figures Prometheus may not report (the pool view). `null` reads "not reported". The e2e spec formats
 * Prometheus's own answers with these to compare.
 */
export const NOT_REPORTED = 'not reported';

export function count(v: number | null): string {
  return v === null ? NOT_REPORTED : fixed(Math.round(v), 0);
}

/** A percentage already in % (0–100). */
export function percent(v: number | null, digits = 0): string {
  return v === null ? NOT_REPORTED : pct(v, digits);
}

/** A share from 0 to 1, as a percentage. */
export function share(v: number | null): string {
  return v === null ? NOT_REPORTED : pct(v * 100, 2);
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
