import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { pgError } from '@/db/errors';
import { auditLog, organizations } from '@/db/schema';
import { testDatabase } from '@/test/db';
import { type AuditCtx, sameValues, unchanged, verifyChain, withAudit } from '.';

let database: Database;
let ctx: AuditCtx;

beforeAll(async () => {
  database = await testDatabase({ max: 20 });
  ctx = {
    db: database.db,
    actor: { staffId: null, email: 'ops@arbitex.ai', actingOrgId: null, actingContextId: null },
    requestId: 'req-test',
    ip: '127.0.0.1',
    userAgent: 'vitest',
  };
});
afterAll(() => database.close());

async function newOrg(slug: string) {
  const [org] = await database.db
    .insert(organizations)
    .values({ slug, name: slug, planTier: 'team_saas' })
    .returning();
  return org!;
}

async function countInbox(): Promise<number> {
  const [r] = await rows<{ n: string }>(database.db, sql`select count(*)::text as n from audit_inbox`);
  return Number(r!.n);
}

async function countAudit(): Promise<number> {
  const [r] = await rows<{ n: string }>(database.db, sql`select count(*)::text as n from audit_log`);
  return Number(r!.n);
}

function rename(orgId: string, name: string) {
  return withAudit(
    ctx,
    { action: 'org.updated', orgId, targetType: 'organization', targetId: orgId },
    async (tx, audit) => {
      const [before] = await tx.select().from(organizations).where(eq(organizations.id, orgId));
      const [after] = await tx
        .update(organizations)
        .set({ name, version: sql`${organizations.version} + 1` })
        .where(eq(organizations.id, orgId))
        .returning();
      audit.diff({ name: before!.name }, { name: after!.name });
      return after!;
    },
  );
}

describe('withAudit', () => {
  it('keeps nothing of a write that answers unchanged(): no row change, no inbox row, no entry', async () => {
    const org = await newOrg('noop-org');
    const [entries, inbox] = [await countAudit(), await countInbox()];
    const answer = await withAudit(
      ctx,
      { action: 'org.updated', orgId: org.id, targetType: 'organization', targetId: org.id },
      async (tx, audit) => {
        // Whatever the write did before it found nothing to change is rolled back with it.
        await tx
          .update(organizations)
          .set({ version: sql`${organizations.version} + 1` })
          .where(eq(organizations.id, org.id));
        audit.diff({ name: org.name }, { name: org.name });
        return unchanged('the name is the same.');
      },
    );
    expect(JSON.parse(JSON.stringify(answer))).toEqual({
      changed: false,
      message: 'Nothing changed: the name is the same.',
    });
    const [row] = await database.db.select().from(organizations).where(eq(organizations.id, org.id));
    expect(row).toEqual(org);
    expect([await countAudit(), await countInbox()]).toEqual([entries, inbox]);
  });

  it('compares recorded values as JSON, key order aside', () => {
    expect(sameValues({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(sameValues({ a: 1, b: [1, 2] }, { a: 1, b: [2, 1] })).toBe(false);
    expect(sameValues({ at: new Date(0) }, { at: '1970-01-01T00:00:00.000Z' })).toBe(true);
    expect(sameValues(null, undefined)).toBe(true);
    expect(sameValues({ a: null }, {})).toBe(false);
  });

  it('commits the write and a chained entry that records both identities and the diff', async () => {
    const org = await newOrg('acme-health');
    const acting = {
      ...ctx,
      actor: {
        ...ctx.actor,
        staffId: crypto.randomUUID(),
        actingOrgId: org.id,
        actingContextId: crypto.randomUUID(),
      },
    };
    await withAudit(acting, { action: 'org.updated', orgId: org.id }, async (tx, audit) => {
      await tx.update(organizations).set({ name: 'Acme Health' }).where(eq(organizations.id, org.id));
      audit.diff({ name: 'acme-health', token_hash: 'abc' }, { name: 'Acme Health', token_hash: 'def' });
    });
    const [entry] = await database.db
      .select()
      .from(auditLog)
      .orderBy(sql`seq desc`)
      .limit(1);
    expect(entry).toMatchObject({
      action: 'org.updated',
      orgId: org.id,
      actorStaffId: acting.actor.staffId,
      actorEmail: 'ops@arbitex.ai',
      actingOrgId: org.id,
      actingContextId: acting.actor.actingContextId,
      outcome: 'success',
      hmacKeyId: 'test-k1',
      diff: {
        before: { name: 'acme-health', token_hash: '[redacted]' },
        after: { name: 'Acme Health', token_hash: '[redacted]' },
      },
    });
    expect(await verifyChain(database.db)).toMatchObject({ ok: true });
  });

  it('refuses an action name outside the closed list, writing nothing', async () => {
    const before = await countAudit();
    await expect(
      withAudit(ctx, { action: 'org.deleted' as never }, async () => {
        throw new Error('the write must not run');
      }),
    ).rejects.toThrow(/Invalid option/);
    expect(await countAudit()).toBe(before);
  });

  describe('atomicity', () => {
    let orgId: string;
    beforeEach(async () => {
      orgId = (await newOrg(`atomic-${crypto.randomUUID().slice(0, 8)}`)).id;
    });

    it('keeps nothing when the failure comes after the business write and before the append', async () => {
      const before = await countAudit();
      await expect(
        withAudit(ctx, { action: 'org.updated', orgId }, async (tx) => {
          await tx.update(organizations).set({ name: 'should not stick' }).where(eq(organizations.id, orgId));
          throw new Error('injected failure');
        }),
      ).rejects.toThrow('injected failure');
      const [org] = await database.db.select().from(organizations).where(eq(organizations.id, orgId));
      expect(org!.name).not.toBe('should not stick');
      expect(await countAudit()).toBe(before);
    });

    it('rolls the business write back when recording the entry itself fails', async () => {
      const before = await countAudit();
      // Make the database refuse this one entry, as a full disk or a constraint would.
      await database.db.execute(
        sql.raw(
          `alter table audit_inbox add constraint test_refuse check (entries::text not like '%refuse-me%') not valid`,
        ),
      );
      try {
        await expect(
          withAudit(ctx, { action: 'org.updated', orgId, targetId: 'refuse-me' }, async (tx) => {
            await tx
              .update(organizations)
              .set({ name: 'should not stick' })
              .where(eq(organizations.id, orgId));
          }),
        ).rejects.toThrow();
      } finally {
        await database.db.execute(sql.raw(`alter table audit_inbox drop constraint test_refuse`));
      }
      const [org] = await database.db.select().from(organizations).where(eq(organizations.id, orgId));
      expect(org!.name).not.toBe('should not stick');
      expect(await countAudit()).toBe(before);
      expect(await countInbox()).toBe(0);
      expect(await verifyChain(database.db)).toMatchObject({ ok: true });
    });

    it('loses nothing when chaining fails after the commit: the entry waits and the next drain chains it', async () => {
      const before = await countAudit();
      await database.db.execute(
        sql.raw(
          `alter table audit_log add constraint test_refuse check (target_id is distinct from 'refuse-me') not valid`,
        ),
      );
      try {
        // The write is committed, so withAudit resolves; the entry cannot reach the chain yet.
        await withAudit(ctx, { action: 'org.updated', orgId, targetId: 'refuse-me' }, async (tx) => {
          await tx.update(organizations).set({ name: 'kept' }).where(eq(organizations.id, orgId));
        });
        const [org] = await database.db.select().from(organizations).where(eq(organizations.id, orgId));
        expect(org!.name).toBe('kept');
        expect(await countAudit()).toBe(before);
        expect(await countInbox()).toBe(1);
      } finally {
        await database.db.execute(sql.raw(`alter table audit_log drop constraint test_refuse`));
      }
      await rename(orgId, 'next write');
      expect(await countInbox()).toBe(0);
      const chained = await rows<{ target_id: string | null }>(
        database.db,
        sql`select target_id from audit_log order by seq desc limit 2`,
      );
      expect(chained.map((r) => r.target_id)).toEqual([orgId, 'refuse-me']);
      expect(await verifyChain(database.db)).toMatchObject({ ok: true });
    });

    it('refuses an entry the chain could not take, before anything is committed', async () => {
      await expect(
        withAudit(
          { ...ctx, actor: { ...ctx.actor, staffId: 'not-a-uuid' } },
          { action: 'org.updated', orgId },
          async (tx) => {
            await tx
              .update(organizations)
              .set({ name: 'should not stick' })
              .where(eq(organizations.id, orgId));
          },
        ),
      ).rejects.toThrow(/actor_staff_id/);
      const [org] = await database.db.select().from(organizations).where(eq(organizations.id, orgId));
      expect(org!.name).not.toBe('should not stick');
      expect(await countInbox()).toBe(0);
    });
  });

  it('does not chain an inbox row changed while it waited: a failure entry carries it instead', async () => {
    const org = await newOrg('inbox-tamper');
    // As a database superuser would: add a pending row whose MAC does not match its entries.
    await database.db.execute(
      sql`insert into audit_inbox (entries, key_id, mac) values (${JSON.stringify([{ action: 'org.updated', target_id: 'forged' }])}::jsonb, 'test-k1', ${'0'.repeat(64)})`,
    );
    await rename(org.id, 'after the forgery');
    const [rejected, next] = await rows<{
      action: string;
      outcome: string;
      diff: { reason: string; entries: unknown };
    }>(database.db, sql`select action, outcome, diff from audit_log order by seq desc limit 2 offset 0`).then(
      (r) => [r[1], r[0]],
    );
    expect(rejected).toMatchObject({
      action: 'audit.inbox_rejected',
      outcome: 'failure',
      diff: {
        reason: 'the MAC does not match the entries',
        entries: [{ action: 'org.updated', target_id: 'forged' }],
      },
    });
    expect(next).toMatchObject({ action: 'org.updated' });
    expect(await countInbox()).toBe(0);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true });
  });

  it('refuses to change a waiting inbox row', async () => {
    await database.db.execute(
      sql`insert into audit_inbox (entries, key_id, mac) values ('[]'::jsonb, 'test-k1', ${'0'.repeat(64)})`,
    );
    const err = await database.db
      .execute(sql`update audit_inbox set mac = ${'1'.repeat(64)}`)
      .catch((e: unknown) => e);
    expect(pgError(err)?.message).toMatch(/append-only: UPDATE refused/);
    await database.db.execute(sql`delete from audit_inbox`);
  });

  it('gives one linear chain under 64 concurrent writers: dense seq, no fork, verifies', async () => {
    const orgs = await Promise.all(Array.from({ length: 8 }, (_, i) => newOrg(`concurrent-${i}`)));
    const before = await countAudit();
    await Promise.all(Array.from({ length: 64 }, (_, i) => rename(orgs[i % 8]!.id, `Concurrent ${i}`)));
    const chain = await rows<{ seq: string; prev_hmac: string; hmac: string }>(
      database.db,
      sql`select seq::text as seq, prev_hmac, hmac from audit_log order by audit_log.seq`,
    );
    expect(chain).toHaveLength(before + 64);
    chain.forEach((row, i) => {
      expect(Number(row.seq)).toBe(i + 1);
      if (i > 0) expect(row.prev_hmac).toBe(chain[i - 1]!.hmac);
    });
    expect(new Set(chain.map((r) => r.prev_hmac)).size).toBe(chain.length);
    const result = await verifyChain(database.db, { batchSize: 7 });
    expect(result).toEqual({
      ok: true,
      checked: chain.length,
      headSeq: chain.length,
      headHmac: chain.at(-1)!.hmac,
    });
  });
});

describe('audit_log is append-only in the database', () => {
  beforeAll(async () => {
    const org = await newOrg(`append-only-${crypto.randomUUID().slice(0, 8)}`);
    await rename(org.id, 'Append Only');
  });

  it.each([
    ['UPDATE', `update audit_log set action = 'org.resumed'`],
    ['DELETE', `delete from audit_log`],
    ['TRUNCATE', `truncate audit_log`],
  ])('refuses %s, even for the table owner', async (_op, statement) => {
    const before = await countAudit();
    const err = await database.db.execute(sql.raw(statement)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(pgError(err)).toMatchObject({
      code: '42501',
      message: expect.stringMatching(/audit_log is append-only/),
    });
    expect(await countAudit()).toBe(before);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true });
  });

  it('keeps its triggers when replication mode would skip ordinary ones', async () => {
    const triggers = await rows<{ tgname: string; tgenabled: string }>(
      database.db,
      sql`select tgname, tgenabled from pg_trigger where tgrelid = 'audit_log'::regclass and not tgisinternal order by tgname`,
    );
    expect(triggers).toEqual([
      { tgname: 'audit_log_no_truncate', tgenabled: 'A' },
      { tgname: 'audit_log_no_update_delete', tgenabled: 'A' },
    ]);
  });

  it('denies INSERT (migration 0015: audit_chain_append only), UPDATE, DELETE and TRUNCATE to portal_app', async () => {
    const privileges = await rows<{ p: string; granted: boolean }>(
      database.db,
      sql`select p, has_table_privilege('portal_app', 'audit_log', p) as granted
          from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p`,
    );
    expect(Object.fromEntries(privileges.map((r) => [r.p, r.granted]))).toEqual({
      SELECT: true,
      INSERT: false,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
    });
  });
});

describe('the execution of an approved request', () => {
  it('claims the request after the write, so the claim locks nothing before the write’s own locks', async () => {
    const org = await newOrg('claim-order');
    const steps: string[] = [];
    const approval = {
      facts: { approval_request_id: 'r-1' },
      claim: async () => {
        steps.push('claim');
      },
    };
    await withAudit(
      { ...ctx, approval },
      { action: 'org.updated', orgId: org.id, targetType: 'organization', targetId: org.id },
      async (tx) => {
        steps.push('write');
        await tx.update(organizations).set({ name: 'Claim order' }).where(eq(organizations.id, org.id));
      },
    );
    expect(steps).toEqual(['write', 'claim']);
  });

  it('rolls the write back when the claim fails: the request was decided meanwhile', async () => {
    const org = await newOrg('claim-fails');
    const approval = {
      facts: {},
      claim: async () => {
        throw new Error('decided meanwhile');
      },
    };
    await expect(
      withAudit(
        { ...ctx, approval },
        { action: 'org.updated', orgId: org.id, targetType: 'organization', targetId: org.id },
        async (tx) => {
          await tx.update(organizations).set({ name: 'Never' }).where(eq(organizations.id, org.id));
        },
      ),
    ).rejects.toThrow('decided meanwhile');
    const [after] = await database.db.select().from(organizations).where(eq(organizations.id, org.id));
    expect(after!.name).toBe('claim-fails');
  });
});
