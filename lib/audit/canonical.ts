/**
 * RFC 8785 JSON Canonicalization Scheme. ECMAScript's JSON.stringify already serialises strings and
 * numbers exactly as the RFC asks (section 3.2.2), so what remains is sorting object keys by their
 * UTF-16 code units and refusing what JSON cannot carry. Written with plain loops: verification runs
 * this once per audit entry.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`RFC 8785 cannot represent the number ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
        return `${out}]`;
      }
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const object = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units, which is the order RFC 8785 section 3.2.3 requires.
      const keys = Object.keys(object).sort();
      let out = '{';
      for (const key of keys) {
        const v = object[key];
        if (v === undefined) continue;
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`RFC 8785 cannot represent a value of type ${typeof value}`);
  }
}
