-- Signed checkpoints are evidence, like the audit log itself: append-only inside Postgres. Row triggers
-- refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE, both ENABLE ALWAYS so that
-- session_replication_role = replica does not skip them, and portal_app may only read and insert.
ALTER TABLE audit_checkpoints ADD CONSTRAINT audit_checkpoints_head_hex CHECK (head_hmac ~ '^[0-9a-f]{64}$');
--> statement-breakpoint
ALTER TABLE audit_checkpoints ADD CONSTRAINT audit_checkpoints_seq_nonnegative CHECK (seq >= 0);
--> statement-breakpoint
CREATE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_refuse_change();
--> statement-breakpoint
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_update_delete;
--> statement-breakpoint
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_truncate;
--> statement-breakpoint
DO $$
BEGIN
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM portal_app;
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM PUBLIC;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'portal_app role not configured: %', SQLERRM;
END;
$$;
