import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import { organizations, outposts } from '@/db/schema';
import { appendEntries } from '@/lib/audit';
import type { StaffCtx } from '@/lib/auth/session';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { poolMarks } from './audit';
import { orgsBySlug } from './outposts';

/** The pool view's two reads of the database: organisations by slug, and the staff actions to mark. */

let database: Database;
let auditor: StaffCtx;
let orgId: string;
let outpostId: string;

beforeAll(async () => {
  database = await testDatabase();
  auditor = await staffWithSession(database.db, 'auditor');
  const [org] = await database.db
    .insert(organizations)
    .values({ slug: 'pool-q', name: 'Pool Q Bank', planTier: 'enterprise_outpost' })
    .returning({ id: organizations.id });
  orgId = org!.id;
  const [outpost] = await database.db
    .insert(outposts)
    .values({ orgId, name: 'edge-east', region: 'eastus2' })
    .returning({ id: outposts.id });
  outpostId = outpost!.id;
  const at = (iso: string) => ({ occurred_at: iso, actor_email: 'ops@arbitex.example', org_id: orgId });
  await database.db.transaction((tx) =>
    appendEntries(tx, [
      { action: 'org.suspended', ...at('2026-06-01T09:00:00.000Z') },
      {
        action: 'org.outpost.inference_mode.updated',
        target_type: 'outpost',
        target_id: outpostId,
        ...at('2026-06-01T10:00:00.000Z'),
      },
      // Not a pool action, a refused one, and one outside the range: none is marked.
      { action: 'org.rate_limits.updated', ...at('2026-06-01T10:10:00.000Z') },
      { action: 'org.resumed', outcome: 'denied', ...at('2026-06-01T10:20:00.000Z') },
      { action: 'org.resumed', ...at('2026-06-01T12:00:00.000Z') },
    ]),
  );
});
afterAll(() => database.close());

describe('the pool view', () => {
  it('marks the successful mode changes, suspensions and resumes of the range, oldest first', async () => {
    const marks = await poolMarks(
      auditor,
      new Date('2026-06-01T08:30:00Z'),
      new Date('2026-06-01T11:00:00Z'),
    );
    expect(marks).toEqual([
      {
        at: '2026-06-01T09:00:00.000Z',
        action: 'org.suspended',
        orgId,
        orgName: 'Pool Q Bank',
        outpost: null,
        actorEmail: 'ops@arbitex.example',
      },
      {
        at: '2026-06-01T10:00:00.000Z',
        action: 'org.outpost.inference_mode.updated',
        orgId,
        orgName: 'Pool Q Bank',
        outpost: 'edge-east',
        actorEmail: 'ops@arbitex.example',
      },
    ]);
  });

  it('finds organisations by the slug the gateway labels blocks with, and nothing for an unknown slug', async () => {
    const found = await orgsBySlug(auditor, ['pool-q', 'no-such-org']);
    expect([...found.entries()]).toEqual([['pool-q', { id: orgId, name: 'Pool Q Bank' }]]);
    expect((await orgsBySlug(auditor, [])).size).toBe(0);
  });
});
