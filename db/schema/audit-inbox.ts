import { bigserial, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Audit entries committed with their business write and not yet on the chain (lib/audit/inbox.ts). A row
 * lives for milliseconds: the drain moves it onto audit_log and deletes it in one transaction. `mac` is
 * HMAC-SHA256 over the RFC 8785 form of `entries` with the key `key_id`, so a change made while it waits is
 * seen. The custom migration forbids UPDATE.
 */
export const auditInbox = pgTable('audit_inbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  entries: jsonb('entries').notNull(),
  keyId: text('key_id').notNull(),
  mac: text('mac').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});
