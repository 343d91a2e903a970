-- The audit explorer's filters combine freely (organisation, staff member, action, outcome, time). The
-- (column, seq) indexes carry the other filter columns too (INCLUDE), so that a page of a combined filter is
-- an index-only scan that filters on the index tuples instead of fetching every candidate row from the heap.
-- Same names and keys as the schema declares (drizzle-kit cannot express INCLUDE). See docs/AUDIT.md.
DROP INDEX IF EXISTS "audit_log_org";--> statement-breakpoint
CREATE INDEX "audit_log_org" ON "audit_log" USING btree ("org_id","seq") INCLUDE ("action","outcome","actor_staff_id","occurred_at");--> statement-breakpoint
DROP INDEX IF EXISTS "audit_log_actor";--> statement-breakpoint
CREATE INDEX "audit_log_actor" ON "audit_log" USING btree ("actor_staff_id","seq") INCLUDE ("action","outcome","occurred_at");--> statement-breakpoint
DROP INDEX IF EXISTS "audit_log_action";--> statement-breakpoint
CREATE INDEX "audit_log_action" ON "audit_log" USING btree ("action","seq") INCLUDE ("outcome","actor_staff_id","occurred_at");
