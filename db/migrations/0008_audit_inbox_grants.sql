-- audit_inbox rows are inserted by an audited write and deleted by the drain that chains them; nothing
-- changes one in between (lib/audit/inbox.ts). An ENABLE ALWAYS trigger refuses UPDATE, as on audit_log.
CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
--> statement-breakpoint
ALTER TABLE audit_inbox ENABLE ALWAYS TRIGGER audit_inbox_no_update;
--> statement-breakpoint
DO $$
BEGIN
  REVOKE UPDATE, TRUNCATE ON audit_inbox FROM portal_app;
  GRANT USAGE ON SEQUENCE audit_inbox_id_seq TO portal_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'portal_app role not configured: %', SQLERRM;
END;
$$;
