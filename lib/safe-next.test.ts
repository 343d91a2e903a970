import { describe, expect, it } from 'vitest';
import { safeNext } from './safe-next';

const ORIGIN = 'https://int.arbitex.ai';

describe('safeNext', () => {
  it('keeps a path on the portal, with its query and fragment', () => {
    expect(safeNext('/orgs/42?tab=limits#rate', ORIGIN)).toBe('/orgs/42?tab=limits#rate');
    expect(safeNext('/staff', ORIGIN)).toBe('/staff');
  });

  it.each([
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    '/\u0000/evil.example',
    '/\u007f',
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    ' /staff',
    '',
    null,
  ])('sends %j to / instead', (next) => {
    expect(safeNext(next, ORIGIN)).toBe('/');
  });
});
