import { describe, expect, it } from 'vitest';
import { diffSummary, summaryValue } from './summary';

describe('diffSummary', () => {
  it('says each changed field as `field before → after`', () => {
    expect(diffSummary({ before: { plan_tier: 'team_saas' }, after: { plan_tier: 'enterprise_saas' } })).toBe(
      'plan_tier team_saas → enterprise_saas',
    );
    expect(
      diffSummary({
        before: { required: true, methods: ['fido2'], source: 'org' },
        after: { required: true, methods: ['fido2', 'totp'], source: 'org' },
        weakening: true,
        reason: 'Customer lost keys',
      }),
    ).toBe('methods fido2 → fido2, totp');
  });

  it('says a creation, a removal, and nothing for an entry without a diff', () => {
    expect(diffSummary({ before: null, after: { body: 'Called the customer' } })).toBe(
      'created: body Called the customer',
    );
    expect(diffSummary({ before: { id: 'x' }, after: null })).toBe('removed');
    expect(diffSummary(null)).toBe('');
  });

  it('says the facts of an entry that records no before and after', () => {
    expect(diffSummary({ reason: 'locked', verified_by_key: true })).toBe(
      'reason: locked; verified_by_key: true',
    );
  });

  it('keeps to `max` changes and counts the rest', () => {
    const before = { a: 1, b: 2, c: 3, d: 4, e: 5 };
    const after = { a: 2, b: 3, c: 4, d: 5, e: 6 };
    expect(diffSummary({ before, after })).toBe('a 1 → 2; b 2 → 3; c 3 → 4; +2 more');
  });

  it('writes values short: none as a dash, long text cut', () => {
    expect(summaryValue(null)).toBe('—');
    expect(summaryValue('x'.repeat(60))).toBe(`${'x'.repeat(39)}…`);
    expect(summaryValue({ a: 1 })).toBe('{"a":1}');
  });
});
