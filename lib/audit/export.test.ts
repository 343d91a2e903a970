import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { auditCheckpoints, organizations } from '@/db/schema';
import { appendFakeAudit } from '@/db/seed';
import { appendEntries, entryHmac, GENESIS_HMAC, hmacKeyRing, type ChainEntry } from '@/lib/audit';
import type { StaffCtx } from '@/lib/auth/session';
import { ForbiddenError, ValidationError } from '@/lib/errors';
import { exportAudit } from '@/lib/services/audit/export';
import { testDatabase } from '@/test/db';
import { OcsfSchema } from '@/test/ocsf-schema';
import { staffWithSession } from '@/test/staff';
import { checkpointKeyRing } from './checkpoint-keys';
import { CheckpointLine, ExportHeader } from './export-format';
import { checkInclusionProof, ExportProofLine, verifiersFor } from './proof-format';
import { OCSF_CLASSES } from './ocsf';

let database: Database;
let auditor: StaffCtx;
let orgIds: string[];
const schema = new OcsfSchema();
const CLASS_NAMES = new Map<number, string>(Object.entries(OCSF_CLASSES).map(([name, c]) => [c.uid, name]));

async function download(ctx: StaffCtx, params: Record<string, string>) {
  const { stream, filename } = await exportAudit(ctx, params);
  const text = await new Response(stream).text();
  expect(text.endsWith('\n')).toBe(true);
  const lines = text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const header = ExportHeader.parse(lines[0]);
  const events = lines.filter((l) => typeof l.class_uid === 'number') as Array<
    Record<string, unknown> & { class_uid: number; unmapped: { audit: ChainEntry } }
  >;
  const checkpoints = lines
    .filter((l) => l.type === 'arbitex.audit.checkpoint')
    .map((l) => CheckpointLine.parse(l));
  // The last line: the Merkle proof of the last entry, against a note checkpoint the checkpoint key signed.
  const proofs = lines.filter((l) => l.type === 'arbitex.audit.proof').map((l) => ExportProofLine.parse(l));
  expect(lines.length).toBe(1 + events.length + checkpoints.length + proofs.length);
  const entries = events.map((e) => e.unmapped.audit);
  expect(proofs.length).toBe(entries.length > 0 ? 1 : 0);
  if (proofs[0]) {
    expect(lines.at(-1)).toMatchObject({ type: 'arbitex.audit.proof', seq: entries.at(-1)!.seq });
    const keys = [...checkpointKeyRing().keys.values()].map((k) => k.publicKey);
    const verdict = checkInclusionProof(
      proofs[0],
      verifiersFor(proofs[0].chain_id, { pems: keys }),
      entries.at(-1)!,
    );
    expect(verdict).toMatchObject({ ok: true });
  }
  return { filename, header, events, checkpoints, entries, proof: proofs[0] };
}

async function auditCount() {
  const [r] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_log`);
  return r!.n;
}

beforeAll(async () => {
  database = await testDatabase();
  auditor = await staffWithSession(database.db, 'auditor');
  orgIds = (
    await database.db
      .insert(organizations)
      .values(
        Array.from({ length: 5 }, (_, i) => ({
          slug: `export-${i}`,
          name: `Export ${i}`,
          planTier: 'team_saas' as const,
        })),
      )
      .returning({ id: organizations.id })
  ).map((o) => o.id);
  await appendFakeAudit(database.db, 1200, { orgIds });
  // Strings that a careless export would change: escapes, astral characters, numbers JSON may reformat.
  await database.db.transaction((tx) =>
    appendEntries(tx, [
      {
        action: 'org.updated',
        org_id: orgIds[0],
        actor_email: 'ünïcode@arbitex.ai',
        diff: {
          name: 'Zürich \u2028 "quoted" \\ 🦄',
          big: 1e21,
          small: 1.5e-7,
          neg: -0,
          nested: { a: [1, 'two', null] },
        },
        user_agent: 'Agent/1.0 (\t)',
      },
    ]),
  );
  await database.db.insert(auditCheckpoints).values(
    [300, 900, 1201, 5000, 6000].map((seq) => ({
      chainId: 'main',
      seq,
      headHmac: 'a'.repeat(64),
      signedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq % 60)),
      keyId: 'cp1',
      signature: crypto.randomBytes(64).toString('base64url'),
    })),
  );
});
afterAll(() => database.close());

describe('the OCSF export', () => {
  it('streams every entry in seq order, each HMAC verifiable from the line alone, and the checkpoints', async () => {
    const before = await auditCount();
    const { header, events, entries, checkpoints, filename } = await download(auditor, {});
    expect(filename).toMatch(/^arbitex-audit-\d{8}T\d{6}Z\.ndjson$/);
    // The export is audited first, so it contains its own entry, last.
    expect(await auditCount()).toBe(before + 1);
    // Open-ended, to the head: a verifier holds it to every checkpoint (to_seq null).
    expect(header).toMatchObject({ contiguous: true, from_seq: 1, to_seq: null, filters: {} });
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: before + 1 }, (_, i) => i + 1));
    expect(entries.at(-1)).toMatchObject({ action: 'audit.exported', actor_staff_id: auditor.staffId });

    const keys = hmacKeyRing();
    let prev = GENESIS_HMAC;
    for (const e of entries) {
      expect(e.prev_hmac).toBe(prev);
      expect(entryHmac(keys.keys.get(e.hmac_key_id)!, e)).toBe(e.hmac);
      prev = e.hmac;
    }
    for (const event of events) {
      const className = CLASS_NAMES.get(event.class_uid)!;
      expect(schema.validate(className, event)).toEqual([]);
    }
    const odd = entries.find((e) => e.actor_email === 'ünïcode@arbitex.ai')!;
    expect(odd.diff).toMatchObject({ name: 'Zürich \u2028 "quoted" \\ 🦄', big: 1e21 });
    // The range holds 300, 900 and 1201; 5000 is the first after it; 6000 is left out.
    expect(checkpoints.map((c) => c.seq)).toEqual([300, 900, 1201, 5000]);
  });

  it('applies the explorer filters and a seq range, and says when the result is not contiguous', async () => {
    const orgId = orgIds[1]!;
    const filtered = await download(auditor, { org: 'export-1', action: 'org.rate_limits.updated' });
    expect(filtered.header).toMatchObject({
      contiguous: false,
      filters: { org: orgId, action: 'org.rate_limits.updated' },
    });
    const [expected] = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from audit_log where org_id = ${orgId} and action = 'org.rate_limits.updated'`,
    );
    expect(filtered.entries.length).toBe(expected!.n);
    expect(filtered.entries.length).toBeGreaterThan(0);
    expect(filtered.entries.every((e) => e.org_id === orgId && e.action === 'org.rate_limits.updated')).toBe(
      true,
    );

    const range = await download(auditor, { from_seq: '250', to_seq: '400' });
    expect(range.header).toMatchObject({ contiguous: true, from_seq: 250, to_seq: 400 });
    expect(range.entries.map((e) => e.seq)).toEqual(Array.from({ length: 151 }, (_, i) => i + 250));
    expect(range.checkpoints.map((c) => c.seq)).toEqual([300, 900]);

    const failures = await download(auditor, { outcome: 'failure', from: '2000-01-01T00:00' });
    expect(failures.entries.length).toBeGreaterThan(0);
    expect(failures.entries.every((e) => e.outcome === 'failure')).toBe(true);
    expect(failures.events.every((e) => e.status_id === 2)).toBe(true);
  });

  it('exports exactly the entries of a time range, even when occurred_at does not follow seq', async () => {
    // Entries appended later but dated a year earlier: time order and seq order disagree.
    const year = 365 * 86_400_000;
    await appendFakeAudit(database.db, 300, { orgIds, now: new Date(Date.now() - year) });
    const from = new Date(Date.now() - year - 40 * 86_400_000);
    const to = new Date(Date.now() - 20 * 86_400_000);
    const { entries, header } = await download(auditor, { from: from.toISOString(), to: to.toISOString() });
    const expected = await rows<{ s: string }>(
      database.db,
      sql`select a.seq::text as s from audit_log a
          where a.occurred_at >= ${from.toISOString()}::timestamptz and a.occurred_at < ${to.toISOString()}::timestamptz
          order by a.seq`,
    );
    expect(entries.map((e) => e.seq)).toEqual(expected.map((r) => Number(r.s)));
    // Both the year-old entries (high seqs) and the recent fake ones (low seqs) are in it.
    expect(entries.some((e) => e.seq < 1200)).toBe(true);
    expect(entries.some((e) => e.seq > 1210)).toBe(true);
    expect(header).toMatchObject({ contiguous: false, from_seq: 1 });
    const none = await download(auditor, { from: '2001-01-01T00:00', to: '2001-01-02T00:00' });
    expect(none.entries).toEqual([]);
  });

  it('refuses a role without audit.export, and a bad filter, writing nothing', async () => {
    const support = await staffWithSession(database.db, 'support');
    const before = await auditCount();
    await expect(exportAudit(support, {})).rejects.toBeInstanceOf(ForbiddenError);
    const bad = await exportAudit(auditor, { outcome: 'maybe', from_seq: '-3' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).fields).toHaveProperty('outcome');
    const noSuchOrg = await exportAudit(auditor, { org: 'no-such-org' }).catch((e: unknown) => e);
    expect((noSuchOrg as ValidationError).fields).toEqual({
      org: 'No organisation has the slug “no-such-org”.',
    });
    expect(await auditCount()).toBe(before);
  });

  it('stops reading when the download is cancelled', async () => {
    const { stream } = await exportAudit(auditor, {});
    const reader = stream.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"type":"arbitex.audit.export"');
    await reader.cancel();
    expect((await reader.read().catch(() => ({ done: true }))).done).toBe(true);
  });
});
