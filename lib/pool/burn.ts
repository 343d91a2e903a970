import type { Sample } from './client';

/**
 * The latency objective and its burn-rate alert (Google SRE workbook, "Alerting on SLOs": multiwindow,
 * multi-burn-rate alerts). The objective: 95 % of requests finish within POOL_P95_TARGET_MS, so up to 5 %
 * may be slower (the error budget). The burn rate over a window is the share of slower requests divided by
 * that 5 %: 1 spends the budget exactly as fast as allowed. A pair of windows fires when both its long and
 * its short window burn above its threshold: the long one says enough budget went, the short one that it
 * is still going (so the alert stops soon after the latency recovers).
 */

export const LATENCY_OBJECTIVE = 0.95;

export type BurnWindow = '5m' | '30m' | '1h' | '6h';

/** For a 30-day objective: 2 % of the budget spent in 1 h, or 5 % in 6 h (the workbook's page alerts). */
export const BURN_PAIRS: ReadonlyArray<{ long: BurnWindow; short: BurnWindow; threshold: number }> = [
  { long: '1h', short: '5m', threshold: 14.4 },
  { long: '6h', short: '30m', threshold: 6 },
];

export const WINDOW_WORDS: Record<BurnWindow, string> = {
  '5m': '5 min',
  '30m': '30 min',
  '1h': '1 h',
  '6h': '6 h',
};

/**
 * The share of requests that took at most `seconds`, from the request-duration buckets' rates by `le`:
 * linear within the bucket that holds `seconds`, as histogram_quantile interpolates (so the share at the
 * target is exactly the quantile whose value is the target). A request in the +Inf bucket is slower than any
 * finite target. null without buckets or without a +Inf bucket; with no requests at all, null too.
 */
export function shareWithin(buckets: Sample[], seconds: number): number | null {
  const sorted = buckets
    .map((b) => ({ le: Number(b.labels.le === '+Inf' ? Infinity : b.labels.le), count: b.value }))
    .filter((b) => !Number.isNaN(b.le) && Number.isFinite(b.count))
    .sort((a, b) => a.le - b.le);
  const total = sorted.at(-1);
  if (!total || total.le !== Infinity || total.count <= 0) return null;
  const i = sorted.findIndex((b) => b.le >= seconds);
  if (sorted[i]!.le === Infinity) return sorted.at(-2) ? sorted.at(-2)!.count / total.count : 0;
  const upper = sorted[i]!;
  const lower = i === 0 ? { le: 0, count: 0 } : sorted[i - 1]!;
  const within = lower.count + ((upper.count - lower.count) * (seconds - lower.le)) / (upper.le - lower.le);
  return within / total.count;
}

/**
 * The burn rate over one window. No buckets: null (cannot tell). Buckets but no requests in the window: a
 * measured 0, since no request was slow.
 */
export function burnRate(buckets: Sample[], targetMs: number): number | null {
  const total = buckets.find((b) => b.labels.le === '+Inf');
  if (!total || !Number.isFinite(total.value)) return null;
  if (total.value === 0) return 0;
  const within = shareWithin(buckets, targetMs / 1000);
  return within === null ? null : (1 - within) / (1 - LATENCY_OBJECTIVE);
}

export interface BurnPair {
  long: BurnWindow;
  short: BurnWindow;
  threshold: number;
  longRate: number | null;
  shortRate: number | null;
  /** null when either window's rate is missing: the pair cannot be evaluated. */
  fires: boolean | null;
}

export function burnPairs(rates: Record<BurnWindow, number | null>): BurnPair[] {
  return BURN_PAIRS.map((p) => {
    const longRate = rates[p.long];
    const shortRate = rates[p.short];
    return {
      ...p,
      longRate,
      shortRate,
      fires:
        longRate === null || shortRate === null ? null : longRate > p.threshold && shortRate > p.threshold,
    };
  });
}
