import { z } from 'zod';

export const NUL_MESSAGE = 'Remove the NUL character (\\u0000): text cannot contain one.';

/**
 * Every piece of text the portal accepts. PostgreSQL's text cannot hold U+0000, so without this check the
 * write would fail inside the database as a 500; here it is a 400 that names the field.
 */
export function text(params?: Parameters<typeof z.string>[0]) {
  return z.string(params).refine((s) => !s.includes('\u0000'), NUL_MESSAGE);
}
