import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical';
import { canonicalEntry } from './chain';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys at every depth, whatever order they were written in', () => {
    const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } };
    const b = { a: { c: null, d: [3, { y: 2, z: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('orders keys by UTF-16 code units, as the RFC example does', () => {
    // RFC 8785 section 3.2.3: the sort is on UTF-16 code units, so U+1F600 (surrogates D83D DE00)
    // sorts before U+FB33 and after U+00F6.
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the order off the text: JSON.parse would move the integer-like key "1" to the front.
    const order = ['"\\r"', '"1"', '"\u0080"', '"\u00f6"', '"\u20ac"', '"\ud83d\ude00"', '"\ufb33"'];
    const text = canonicalJson(value);
    const positions = order.map((k) => text.indexOf(`${k}:`));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  });

  it('serialises numbers and strings as RFC 8785 requires', () => {
    expect(canonicalJson([333333333.33333329, 1e30, 4.5, 0.002, 1e-27, -0, 100])).toBe(
      '[333333333.3333333,1e+30,4.5,0.002,1e-27,0,100]',
    );
    expect(canonicalJson('\u20ac$\u000f\nA\'B"\\\\"/')).toBe('"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
    expect(canonicalJson({ literals: [null, true, false] })).toBe('{"literals":[null,true,false]}');
  });

  it('keeps non-ASCII text as UTF-8 rather than escaping it', () => {
    expect(canonicalJson({ name: 'Zürich Ærø 東京 🚀' })).toBe('{"name":"Zürich Ærø 東京 🚀"}');
  });

  it('drops undefined properties and refuses values JSON cannot carry', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/cannot represent/);
    expect(() => canonicalJson({ n: Infinity })).toThrow(/cannot represent/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/cannot represent/);
  });
});

describe('canonicalEntry', () => {
  it('is canonicalJson of the entry without its hmac', () => {
    const entry = {
      seq: 42,
      id: '0b8f4c1e-3d5a-4c2b-9f7e-6a1d2c3b4a59',
      occurred_at: '2026-11-23T15:20:43.123Z',
      request_id: 'req-1',
      actor_staff_id: null,
      actor_email: 'ops@arbitex.ai',
      acting_org_id: null,
      acting_context_id: null,
      org_id: null,
      action: 'org.updated',
      target_type: 'organization',
      target_id: 'x',
      outcome: 'success' as const,
      diff: { before: { name: 'Zürich' }, after: { name: '東京' } },
      src_ip: null,
      user_agent: null,
      enforcement_action: null,
      policy_rule_id: null,
      pack_id: null,
      framework_ref: null,
      hmac_key_id: 'k1',
      prev_hmac: '0'.repeat(64),
    };
    expect(canonicalEntry(entry)).toBe(canonicalJson(entry));
    expect(canonicalEntry({ ...entry, hmac: 'f'.repeat(64) } as typeof entry)).toBe(canonicalJson(entry));
  });
});
