import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, rows } from '@/db/client';
import { ValidationError, parseInput } from '@/lib/errors';
import { AuditAction } from './actions';
import { text } from '@/lib/text';

/**
 * The filters of the audit explorer and the export, as their URLs carry them. Empty fields mean "any".
 * `org` and `actor` take an id, or a slug / an e-mail that is looked up; times without a zone are UTC.
 */
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

// `2026-11-23 15:20` (what the search form's time fields take) or `2026-11-23T15:20`, with optional seconds and fraction, and an
// optional zone (`Z` or `+01:00`); without one the time is UTC, the portal's only time zone.
const TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;
const Time = () =>
  text()
    .trim()
    .transform((s, ctx) => {
      const m = TIME.exec(s);
      const d = m ? new Date(`${m[1]}T${m[2]}${m[3] ?? ':00'}${m[5] ?? 'Z'}`) : null;
      if (!d || Number.isNaN(d.getTime())) {
        ctx.addIssue({
          code: 'custom',
          message: `Enter a date and time in UTC, such as 2026-11-23 15:20.`,
        });
        return z.NEVER;
      }
      return d;
    });

const Seq = (message: string) =>
  z.preprocess(
    blank,
    text()
      .regex(/^[0-9]{1,15}$/, message)
      .transform(Number)
      .refine((n) => n > 0, message)
      .optional(),
  );

export const OUTCOMES = ['success', 'denied', 'failure'] as const;

export const AuditSearch = z
  .object({
    org: z.preprocess(blank, text().trim().max(200, 'An organisation is an id or a slug.').optional()),
    actor: z.preprocess(
      blank,
      text().trim().max(320, 'A staff member is an id or an e-mail address.').optional(),
    ),
    context: z.preprocess(blank, z.uuid('An acting context is its id (a UUID).').optional()),
    action: z.preprocess(
      blank,
      z.enum(AuditAction.options, { error: 'The action is not one the portal records.' }).optional(),
    ),
    outcome: z.preprocess(
      blank,
      z.enum(OUTCOMES, { error: `Choose an outcome: ${OUTCOMES.join(', ')}.` }).optional(),
    ),
    from: z.preprocess(blank, Time().optional()),
    to: z.preprocess(blank, Time().optional()),
  })
  .refine((f) => !(f.from && f.to && f.from >= f.to), { error: 'To must be after From.', path: ['to'] });
export type AuditSearchInput = z.input<typeof AuditSearch>;

/** The search keys the URL carries, in the order the form shows them. */
export const SEARCH_KEYS = ['org', 'actor', 'context', 'action', 'outcome', 'from', 'to'] as const;

/** A search with its names looked up: what the SQL filters on. */
export interface AuditFilter {
  orgId?: string;
  staffId?: string;
  contextId?: string;
  action?: AuditAction;
  outcome?: (typeof OUTCOMES)[number];
  from?: Date;
  to?: Date;
  /** Seq bounds (inclusive); the export's range, and the explorer's page cursor. */
  fromSeq?: number;
  toSeq?: number;
}

export const SeqRange = z
  .object({
    from_seq: Seq('Enter a whole number of 1 or more.'),
    to_seq: Seq('Enter a whole number of 1 or more.'),
  })
  .refine((r) => !(r.from_seq && r.to_seq && r.from_seq > r.to_seq), {
    error: 'The last seq must not be below the first.',
    path: ['to_seq'],
  });

const isUuid = (s: string) => z.uuid().safeParse(s).success;

/**
 * Parses the search and looks up a slug or an e-mail. An id is taken as it is, whether or not its row still
 * exists: an entry outlives what it names.
 */
export async function resolveAuditSearch(db: Db, raw: unknown): Promise<AuditFilter> {
  const s = parseInput(AuditSearch, raw);
  const f: AuditFilter = {
    contextId: s.context,
    action: s.action,
    outcome: s.outcome,
    from: s.from,
    to: s.to,
  };
  if (s.org !== undefined) {
    if (isUuid(s.org)) f.orgId = s.org.toLowerCase();
    else {
      const [org] = await rows<{ id: string }>(
        db,
        sql`select id::text as id from organizations where slug = ${s.org.toLowerCase()}`,
      );
      if (!org) throw new ValidationError({ org: `No organisation has the slug “${s.org}”.` });
      f.orgId = org.id;
    }
  }
  if (s.actor !== undefined) {
    if (isUuid(s.actor)) f.staffId = s.actor.toLowerCase();
    else {
      const [staff] = await rows<{ id: string }>(
        db,
        sql`select id::text as id from staff_users where lower(email) = lower(${s.actor})`,
      );
      if (!staff)
        throw new ValidationError({ actor: `No staff member has the e-mail address “${s.actor}”.` });
      f.staffId = staff.id;
    }
  }
  return f;
}

/**
 * The WHERE conditions of a filter, on audit_log aliased `a`. Each equality filter has an index on
 * (column, seq), so a page in seq order is a short index range scan; see docs/AUDIT.md.
 */
export function filterConditions(f: AuditFilter): SQL[] {
  const where: SQL[] = [];
  if (f.orgId) where.push(sql`a.org_id = ${f.orgId}::uuid`);
  if (f.staffId) where.push(sql`a.actor_staff_id = ${f.staffId}::uuid`);
  if (f.contextId) where.push(sql`a.acting_context_id = ${f.contextId}::uuid`);
  if (f.action) where.push(sql`a.action = ${f.action}`);
  if (f.outcome) where.push(sql`a.outcome = ${f.outcome}`);
  if (f.from) where.push(sql`a.occurred_at >= ${f.from.toISOString()}::timestamptz`);
  if (f.to) where.push(sql`a.occurred_at < ${f.to.toISOString()}::timestamptz`);
  if (f.fromSeq !== undefined) where.push(sql`a.seq >= ${f.fromSeq}`);
  if (f.toSeq !== undefined) where.push(sql`a.seq <= ${f.toSeq}`);
  return where;
}

/** The search as URL parameters (the form's values), for links that keep it: only the keys that are set. */
export function searchParamsOf(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SEARCH_KEYS) {
    const v = raw[key];
    if (typeof v === 'string' && v.trim() !== '') out[key] = v.trim();
  }
  return out;
}
