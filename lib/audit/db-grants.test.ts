import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { organizations } from '@/db/schema';
import { forgeAtHead } from '@/test/audit-forge';
import { asAppRole, refused, testDatabase } from '@/test/db';
import { type AuditCtx, verifyChain, withAudit } from '.';
import { enqueueEntries } from './inbox';

// What the application's own database role (portal_app, migration 0015) can and cannot do to the evidence.
let database: Database & { url?: string };
let app: Database;
let ctx: AuditCtx;
let orgId: string;

beforeAll(async () => {
  database = await testDatabase();
  const [org] = await database.db
    .insert(organizations)
    .values({ slug: 'grants', name: 'Grants', planTier: 'team_saas' })
    .returning();
  orgId = org!.id;
  app = await asAppRole(database);
  ctx = {
    db: app.db,
    actor: { staffId: null, email: 'ops@arbitex.ai', actingOrgId: null, actingContextId: null },
    requestId: null,
    ip: null,
    userAgent: null,
  };
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** A statement as the owner (the tests' superuser); on PGlite the one session is portal_app's until close. */
function asOwner(statement: ReturnType<typeof sql>) {
  return database.db.transaction(async (tx) => {
    await tx.execute(sql`set local role none`);
    return tx.execute(statement);
  });
}

async function rename(name: string) {
  await withAudit(ctx, { action: 'org.updated', orgId }, async (tx, audit) => {
    await tx.update(organizations).set({ name }).where(eq(organizations.id, orgId));
    audit.diff({}, { name });
  });
}

async function count(table: 'audit_log' | 'audit_inbox'): Promise<number> {
  const [r] = await rows<{ n: string }>(app.db, sql`select count(*)::text as n from ${sql.raw(table)}`);
  return Number(r!.n);
}

describe('portal_app', () => {
  it('writes audited changes: the drain appends through audit_chain_append', async () => {
    await rename('one');
    await rename('two');
    expect(await count('audit_log')).toBe(2);
    expect(await count('audit_inbox')).toBe(0);
    expect(await verifyChain(app.db, { checkpoints: false })).toMatchObject({ ok: true, checked: 2 });
  });

  it('cannot INSERT into audit_log, even an entry MAC’d with a key of the ring', async () => {
    await refused(forgeAtHead(app.db, 'test-k1', { action: 'staff.role_changed' }), '42501');
  });

  it('cannot DELETE an inbox row, nor insert one with its own id or time', async () => {
    await app.db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.updated', org_id: orgId }]));
    await refused(app.db.execute(sql`delete from audit_inbox`), '42501');
    await refused(
      app.db.execute(
        sql`insert into audit_inbox (id, entries, key_id, mac, created_at) values (1, '[]', 'test-k1', 'x', now())`,
      ),
      '42501',
    );
    await rename('three'); // drains the waiting row too
    expect(await count('audit_inbox')).toBe(0);
  });

  it('cannot remove an inbox row through audit_chain_append without chaining what it holds', async () => {
    await app.db.transaction((tx) =>
      enqueueEntries(tx, [{ action: 'org.updated', org_id: orgId, id: crypto.randomUUID() }]),
    );
    const [row] = await rows<{ id: string }>(app.db, sql`select id::text as id from audit_inbox`);
    const [head] = await rows<{ seq: string; hmac: string }>(
      app.db,
      sql`select seq::text as seq, hmac from audit_log order by seq desc limit 1`,
    );
    const junk = {
      seq: Number(head!.seq) + 1,
      id: crypto.randomUUID(),
      occurred_at: new Date().toISOString(),
      action: 'org.updated',
      outcome: 'success',
      hmac_key_id: 'test-k1',
      prev_hmac: head!.hmac,
      hmac: crypto.randomBytes(32).toString('hex'),
    };
    await refused(
      app.db.execute(
        sql`select audit_chain_append(${`{${row!.id}}`}::bigint[], ${JSON.stringify([junk])}::jsonb)`,
      ),
      '23514',
      /inbox row \d+ is not carried onto the chain/,
    );
    // Nor append anything that does not continue the head.
    await refused(
      app.db.execute(
        sql`select audit_chain_append('{}'::bigint[], ${JSON.stringify([{ ...junk, seq: junk.seq + 1 }])}::jsonb)`,
      ),
      '23514',
      /do not continue the chain/,
    );
    await refused(
      app.db.execute(
        sql`select audit_chain_append('{}'::bigint[], ${JSON.stringify([{ ...junk, prev_hmac: '0'.repeat(64) }])}::jsonb)`,
      ),
      '23514',
      /does not link/,
    );
    await rename('four');
    expect(await count('audit_inbox')).toBe(0);
    expect(await verifyChain(app.db, { checkpoints: false })).toMatchObject({ ok: true });
  });

  it('cannot change or delete a verification verdict once written', async () => {
    const [run] = await rows<{ id: string }>(
      app.db,
      sql`insert into audit_verify_runs (requested_email, source, from_seq, to_seq, runner, status, result, finished_at)
          values ('ops@arbitex.ai', 'cli', 1, 4, 'test', 'broken', '{"ok":false,"firstBadSeq":3}', now())
          returning id::text as id`,
    );
    await refused(
      app.db.execute(
        sql`update audit_verify_runs set status = 'valid', result = '{"ok":true}' where id = ${run!.id}::uuid`,
      ),
      '42501',
      /is final/,
    );
    await refused(app.db.execute(sql`delete from audit_verify_runs where id = ${run!.id}::uuid`), '42501');
    // Not even the owner: the trigger is ENABLE ALWAYS.
    await refused(
      asOwner(sql`update audit_verify_runs set status = 'valid' where id = ${run!.id}::uuid`),
      '42501',
      /is final/,
    );
  });

  it('may read and add witness cosignatures, never change or remove one', async () => {
    const [checkpoint] = await rows<{ id: string }>(
      app.db,
      sql`insert into audit_checkpoints (chain_id, seq, head_hmac, signed_at, key_id, signature)
          values ('grants', 0, ${'0'.repeat(64)}, now(), 'test-cp1', 'x') returning id::text as id`,
    );
    const [row] = await rows<{ id: string }>(
      app.db,
      sql`insert into audit_checkpoint_cosignatures (checkpoint_id, witness_name, witness_key, witness_url, outcome, cosigned_at, cosignature, old_size)
          values (${checkpoint!.id}::uuid, 'w', 'w+00000000+Bx', 'https://w.example', 'cosigned', now(), '— w AAAA', 0)
          returning id::text as id`,
    );
    await refused(
      app.db.execute(
        sql`update audit_checkpoint_cosignatures set outcome = 'refused' where id = ${row!.id}::uuid`,
      ),
      '42501',
    );
    await refused(
      app.db.execute(sql`delete from audit_checkpoint_cosignatures where id = ${row!.id}::uuid`),
      '42501',
    );
    await refused(app.db.execute(sql`truncate audit_checkpoint_cosignatures`), '42501');
    // Not even the owner: the triggers are ENABLE ALWAYS.
    await refused(asOwner(sql`delete from audit_checkpoint_cosignatures`), '42501', /append-only/);
    await refused(asOwner(sql`truncate audit_checkpoint_cosignatures`), '42501', /append-only/);
    const triggers = await rows<{ tgname: string; tgenabled: string }>(
      app.db,
      sql`select tgname, tgenabled from pg_trigger
          where tgrelid = 'audit_checkpoint_cosignatures'::regclass and not tgisinternal order by tgname`,
    );
    // 'A': ENABLE ALWAYS, so session_replication_role = replica does not skip them.
    expect(triggers).toEqual([
      { tgname: 'audit_checkpoint_cosignatures_no_truncate', tgenabled: 'A' },
      { tgname: 'audit_checkpoint_cosignatures_no_update_delete', tgenabled: 'A' },
    ]);
    // A cosigned row carries its cosignature, and only a cosigned row does.
    await refused(
      app.db.execute(
        sql`insert into audit_checkpoint_cosignatures (checkpoint_id, witness_name, witness_key, witness_url, outcome)
            values (${checkpoint!.id}::uuid, 'w', 'w+00000000+Bx', 'https://w.example', 'cosigned')`,
      ),
      '23514',
    );
  });

  it('moves the SIEM cursor only forward, to at most the head, through siem_cursor_advance', async () => {
    await app.db.execute(sql`insert into siem_cursor (sink) values ('splunk') on conflict do nothing`);
    await app.db.execute(
      sql`update siem_cursor set lease_owner = 'me', lease_until = now() + interval '1 minute'`,
    );
    await refused(app.db.execute(sql`update siem_cursor set delivered_seq = 3`), '42501');
    await refused(
      app.db.execute(sql`insert into siem_cursor (sink, delivered_seq) values ('other', 99)`),
      '42501',
    );
    const advance = (from: number, to: number) =>
      rows<{ moved: boolean }>(
        app.db,
        sql`select siem_cursor_advance('splunk', 'me', ${from}, ${to}) as moved`,
      );
    const head = await count('audit_log');
    await refused(advance(0, head + 1), '23514', /at most the head/);
    expect(await advance(0, 2)).toEqual([{ moved: true }]);
    await refused(advance(2, 1), '23514');
    expect(await advance(0, 3)).toEqual([{ moved: false }]); // not from where it is
    await refused(asOwner(sql`update siem_cursor set delivered_seq = 0`), '42501', /moves only forward/);
  });
});
