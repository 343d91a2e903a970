import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { organizations } from '@/db/schema';
import { testDatabase } from '@/test/db';
import { type ChainEntry, entryHmac, verifyChain, withAudit } from '.';

// Each case tampers as a database superuser would: the append-only triggers switched off first.
let database: Database;

beforeEach(async () => {
  database = await testDatabase();
  const ctx = {
    db: database.db,
    actor: {
      staffId: crypto.randomUUID(),
      email: 'admin@arbitex.ai',
      actingOrgId: null,
      actingContextId: null,
    },
    requestId: null,
    ip: null,
    userAgent: null,
  };
  const [org] = await database.db
    .insert(organizations)
    .values({ slug: 'tamper', name: 'Tamper', planTier: 'team_saas' })
    .returning();
  for (let i = 1; i <= 20; i++) {
    await withAudit(ctx, { action: 'org.updated', orgId: org!.id }, async (tx, audit) => {
      await tx
        .update(organizations)
        .set({ name: `Tamper ${i}` })
        .where(eq(organizations.id, org!.id));
      audit.diff({ name: `Tamper ${i - 1}` }, { name: `Tamper ${i}` });
    });
  }
  expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: 20 });
  await superuser(`alter table audit_log disable trigger user`);
});
afterEach(() => database.close());

function superuser(statement: string) {
  return database.db.execute(sql.raw(statement));
}

async function entries(): Promise<ChainEntry[]> {
  return rows<ChainEntry>(
    database.db,
    sql`select seq::int as seq, id::text as id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
        request_id, actor_staff_id::text as actor_staff_id, actor_email, acting_org_id::text as acting_org_id,
        acting_context_id::text as acting_context_id, org_id::text as org_id, action, target_type, target_id,
        outcome::text as outcome, diff, src_ip, user_agent, enforcement_action, policy_rule_id, pack_id, framework_ref,
        hmac_key_id, prev_hmac, hmac from audit_log order by audit_log.seq`,
  );
}

describe('verifyChain finds tampering at the right seq, with the right kind', () => {
  it('a modified field', async () => {
    await superuser(`update audit_log set actor_email = 'someone-else@arbitex.ai' where seq = 7`);
    expect(await verifyChain(database.db)).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      kind: 'modified',
      checked: 6,
    });
  });

  it('a modified diff', async () => {
    await superuser(
      `update audit_log set diff = jsonb_set(diff, '{after,name}', '"Renamed"') where seq = 12`,
    );
    expect(await verifyChain(database.db)).toMatchObject({ ok: false, firstBadSeq: 12, kind: 'modified' });
  });

  it('a deleted row', async () => {
    await superuser(`delete from audit_log where seq = 7`);
    expect(await verifyChain(database.db)).toMatchObject({ ok: false, firstBadSeq: 7, kind: 'gap' });
  });

  it('the first row deleted', async () => {
    await superuser(`delete from audit_log where seq = 1`);
    expect(await verifyChain(database.db)).toMatchObject({ ok: false, firstBadSeq: 1, kind: 'gap' });
  });

  it('two swapped rows', async () => {
    await superuser(`update audit_log set seq = seq + 1000 where seq in (7, 8)`);
    await superuser(`update audit_log set seq = 8 where seq = 1007`);
    await superuser(`update audit_log set seq = 7 where seq = 1008`);
    expect(await verifyChain(database.db)).toMatchObject({ ok: false, firstBadSeq: 7, kind: 'reordered' });
  });

  it('a forged row inserted without the key', async () => {
    await superuser(`update audit_log set seq = seq + 1000 where seq >= 7`);
    await superuser(`update audit_log set seq = seq - 999 where seq > 1000`);
    const [six] = (await entries()).filter((e) => e.seq === 6);
    await superuser(
      `insert into audit_log (seq, id, occurred_at, action, outcome, hmac_key_id, prev_hmac, hmac, actor_email)
       values (7, '${crypto.randomUUID()}', now(), 'org.resumed', 'success', 'test-k1',
               '${crypto.randomBytes(32).toString('hex')}', '${crypto.randomBytes(32).toString('hex')}', '${six!.actor_email}')`,
    );
    expect(await verifyChain(database.db)).toMatchObject({ ok: false, firstBadSeq: 7, kind: 'inserted' });
  });

  it('a suffix re-MACed under a key id the ring does not have', async () => {
    const evil = crypto.randomBytes(32);
    let prev = (await entries()).find((e) => e.seq === 14)!.hmac;
    for (const e of (await entries()).filter((x) => x.seq >= 15)) {
      const forged = { ...e, hmac_key_id: 'k-evil', prev_hmac: prev };
      const hmac = entryHmac(evil, forged);
      await database.db.execute(
        sql`update audit_log set hmac_key_id = 'k-evil', prev_hmac = ${prev}, hmac = ${hmac} where seq = ${e.seq}`,
      );
      prev = hmac;
    }
    expect(await verifyChain(database.db)).toMatchObject({ ok: false, firstBadSeq: 15, kind: 'unknown_key' });
    // The untouched prefix still verifies on its own.
    expect(await verifyChain(database.db, { toSeq: 14 })).toMatchObject({ ok: true, checked: 14 });
  });

  it('verifies a range that starts mid-chain from the stored hmac before it', async () => {
    await superuser(`update audit_log set actor_email = 'x@y' where seq = 3`);
    expect(await verifyChain(database.db, { fromSeq: 5 })).toMatchObject({
      ok: true,
      checked: 16,
      headSeq: 20,
    });
    expect(await verifyChain(database.db, { fromSeq: 2, toSeq: 10 })).toMatchObject({
      ok: false,
      firstBadSeq: 3,
    });
  });
});
