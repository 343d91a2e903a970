import { describe, expect, it } from 'vitest';
import type { Sample } from './client';
import { burnPairs, burnRate, shareWithin } from './burn';

const buckets = (counts: Record<string, number>): Sample[] =>
  Object.entries(counts).map(([le, value]) => ({ labels: { le }, value }));

describe('shareWithin: the share of requests within a target', () => {
  const b = buckets({ '+Inf': 100, '0.2': 90, '0.1': 50 });

  it('interpolates linearly within the bucket, as histogram_quantile does', () => {
    expect(shareWithin(b, 0.15)).toBeCloseTo(0.7);
    expect(shareWithin(b, 0.05)).toBeCloseTo(0.25);
    expect(shareWithin(b, 0.2)).toBeCloseTo(0.9);
  });

  it('counts requests in the +Inf bucket as slower than any finite target', () => {
    expect(shareWithin(b, 5)).toBeCloseTo(0.9);
  });

  it('has no answer without a +Inf bucket or without requests', () => {
    expect(shareWithin(buckets({ '0.1': 5 }), 0.1)).toBeNull();
    expect(shareWithin(buckets({ '0.1': 0, '+Inf': 0 }), 0.1)).toBeNull();
    expect(shareWithin([], 0.1)).toBeNull();
  });
});

describe('burnRate', () => {
  it('divides the share of slower requests by the 5 % budget', () => {
    // 30 % slower than 150 ms.
    expect(burnRate(buckets({ '0.1': 50, '0.2': 90, '+Inf': 100 }), 150)).toBeCloseTo(6);
    expect(burnRate(buckets({ '0.1': 100, '+Inf': 100 }), 150)).toBe(0);
  });

  it('is a measured 0 with no requests in the window, and unknown without the histogram', () => {
    expect(burnRate(buckets({ '0.1': 0, '+Inf': 0 }), 150)).toBe(0);
    expect(burnRate([], 150)).toBeNull();
    expect(burnRate(buckets({ '0.1': 3 }), 150)).toBeNull();
  });
});

describe('burnPairs: multiwindow, multi-burn-rate', () => {
  const rates = (r5m: number | null, r30m: number | null, r1h: number | null, r6h: number | null) =>
    burnPairs({ '5m': r5m, '30m': r30m, '1h': r1h, '6h': r6h }).map((p) => p.fires);

  it('fires a pair only when its long and its short window both burn above its threshold', () => {
    expect(rates(15, 0, 15, 0)).toEqual([true, false]);
    expect(rates(0, 7, 0, 7)).toEqual([false, true]);
    // A blip (short window only) and a recovery (long window only) do not fire.
    expect(rates(100, 100, 1, 1)).toEqual([false, false]);
    expect(rates(1, 1, 100, 100)).toEqual([false, false]);
    // At the threshold is not above it.
    expect(rates(14.4, 6, 14.4, 6)).toEqual([false, false]);
  });

  it('cannot evaluate a pair with a window missing', () => {
    expect(rates(null, 7, 20, 7)).toEqual([null, true]);
    expect(rates(1, null, 1, 7)).toEqual([false, null]);
  });
});
