-- The audit log is append-only inside Postgres itself (DESIGN section 6).
-- Row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE, and both are
-- ENABLE ALWAYS so that session_replication_role = replica does not skip them.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
--> statement-breakpoint
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete;
--> statement-breakpoint
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;
--> statement-breakpoint
-- The application connects as a login role that is a member of portal_app and does not own the tables
-- (docs/ARCHITECTURE.md). portal_app may read and append to the audit log, never change it.
-- Where the migrating role may not create roles, the grants are left to the operator.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_app') THEN
    BEGIN
      CREATE ROLE portal_app NOLOGIN;
    EXCEPTION WHEN duplicate_object THEN
      NULL; -- another database of this cluster created it at the same moment
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO portal_app', current_schema());
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO portal_app', current_schema());
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portal_app', current_schema());
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM portal_app;
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'portal_app role not configured: %', SQLERRM;
END;
$$;
