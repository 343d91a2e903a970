import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The rule that keeps app/ and components/ away from the database (DESIGN section 2).
const probe = `import { getDatabase } from '@/db/client';
import { sql } from 'drizzle-orm';
import { organizations } from '../../db/schema';
export const used = [getDatabase, sql, organizations];
`;

describe('the db import boundary lint rule', () => {
  const eslint = new ESLint();

  it.each(['app/orgs/page.tsx', 'components/org-table.tsx'])(
    'refuses database imports in %s',
    async (filePath) => {
      const [result] = await eslint.lintText(probe, { filePath });
      const messages = result!.messages.filter((m) => m.ruleId === 'no-restricted-imports');
      expect(messages).toHaveLength(3);
      expect(messages[0]!.message).toMatch(/never touch the database/);
    },
  );

  it('allows them in lib/', async () => {
    const [result] = await eslint.lintText(probe, { filePath: 'lib/queries/orgs.ts' });
    expect(result!.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });
});
