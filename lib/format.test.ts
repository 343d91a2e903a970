import { describe, expect, it } from 'vitest';
import { ago } from './format';

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
