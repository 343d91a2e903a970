import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseInput } from '@/lib/errors';
import { text } from './text';

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('text', () => {
  it('refuses a NUL character with a 400 naming the field, after any other check', () => {
    const schema = z.object({ reason: text().trim().min(3) });
    expect(parseInput(schema, { reason: ' fine ' })).toEqual({ reason: 'fine' });
    expect(() => parseInput(schema, { reason: 'bad\u0000text' })).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringMatching(/^Reason: .*NUL/) }),
    );
  });

  it('is how every service and query takes free text: no bare z.string() there', () => {
    const bare = ['lib/services', 'lib/queries', 'lib/audit/filter.ts', 'lib/auth/webauthn-json.ts']
      .flatMap((p) => (p.endsWith('.ts') ? [p] : sources(p)))
      .filter((f) => /z\s*\.\s*string\((?!\), z\.unknown)/.test(fs.readFileSync(f, 'utf8')));
    expect(bare).toEqual([]);
  });
});
