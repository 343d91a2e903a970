import { describe, expect, it } from 'vitest';
import {
  ago,
  chartTick,
  clock,
  count,
  num,
  parseUtcInput,
  pct,
  percent,
  share,
  shareOf,
  timeLeft,
  utc,
  utcInput,
  utcMinute,
  utcMonth,
} from './format';

describe('ago', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const before = (s: number) => new Date(now.getTime() - s * 1000);

  it('uses the largest whole unit', () => {
    expect(ago(before(12), now)).toBe('12 s ago');
    expect(ago(before(59), now)).toBe('59 s ago');
    expect(ago(before(60), now)).toBe('1 min ago');
    expect(ago(before(2 * 3600 + 14 * 60), now)).toBe('2 h ago');
    expect(ago(before(3 * 86_400 + 5), now)).toBe('3 d ago');
  });

  it('says never for no time, and 0 s for a clock slightly ahead', () => {
    expect(ago(null, now)).toBe('never');
    expect(ago(before(-3), now)).toBe('0 s ago');
  });
});

describe('times: ISO 8601, UTC, 24-hour clock', () => {
  // 15:20 in UTC is 16:20 in Berlin and 3:20 pm in a 12-hour locale: neither may show.
  const t = new Date('2026-11-23T15:20:43.512Z');

  it('writes a time, to the second or the minute, a month and a time of day, whatever the zone given', () => {
    expect(utc(t)).toBe('2026-11-23 15:20:43 UTC');
    expect(utc('2026-11-23T16:20:43+01:00')).toBe('2026-11-23 15:20:43 UTC');
    expect(utc(null)).toBe('—');
    expect(utcMinute(t)).toBe('2026-11-23 15:20 UTC');
    expect(utcMonth(t)).toBe('2026-11');
    expect(clock(t)).toBe('15:20:43 UTC');
  });

  it('counts down what is left, in minutes and seconds, with hours from an hour', () => {
    expect(timeLeft(30 * 60_000)).toBe('30:00 left');
    expect(timeLeft(29 * 60_000 + 5_999)).toBe('29:05 left');
    expect(timeLeft(59_000)).toBe('0:59 left');
    expect(timeLeft(3_600_000 + 2 * 60_000 + 9_000)).toBe('1:02:09 left');
    expect(timeLeft(0)).toBe('expired');
    expect(timeLeft(-5)).toBe('expired');
  });

  it('ticks a chart axis in 24-hour UTC, with the date at midnight', () => {
    expect(chartTick(Date.parse('2026-11-23T15:20:00Z') / 1000)).toBe('15:20');
    expect(chartTick(Date.parse('2026-11-23T00:00:00Z') / 1000)).toBe('2026-11-23');
  });

  it('reads back what a time field shows, as UTC, and nothing that is not a real time', () => {
    expect(utcInput(t)).toBe('2026-11-23 15:20');
    expect(parseUtcInput(utcInput(t))).toBe('2026-11-23T15:20:00.000Z');
    expect(parseUtcInput('2026-11-23T15:20:43')).toBe('2026-11-23T15:20:43.000Z');
    expect(parseUtcInput(' 2026-11-23 15:20 UTC ')).toBe('2026-11-23T15:20:00.000Z');
    expect(parseUtcInput('2026-11-23')).toBe('2026-11-23T00:00:00.000Z');
    for (const bad of ['2026-02-30 10:00', '2026-11-23 24:00', '23/11/2026', 'next week', '3:20 pm', '']) {
      expect(parseUtcInput(bad), bad).toBeNull();
    }
  });
});

describe('numbers and percentages', () => {
  it('separates thousands, and writes one percent style', () => {
    expect(num(1_000_000)).toBe('1,000,000');
    expect(num(null)).toBe('—');
    expect(count(1234.4)).toBe('1,234');
    expect(pct(42)).toBe('42 %');
    expect(percent(12.345, 1)).toBe('12.3 %');
    expect(share(0.5)).toBe('50.00 %');
    expect(share(null)).toBe('not reported');
  });

  it('rounds a share down, so that 99.9 % never reads 100 %, and has none of no whole', () => {
    expect(shareOf(999, 1000)).toBe('99 %');
    expect(shareOf(12_345, 100_000)).toBe('12 %');
    expect(shareOf(5, 0)).toBe('—');
  });
});
