-- /api/ready checks, as the application's role, that the database has this build's newest migration
-- (lib/health.ts): portal_app may read drizzle's migration journal, and nothing else in that schema.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_app') THEN
    GRANT USAGE ON SCHEMA drizzle TO portal_app;
    GRANT SELECT ON drizzle.__drizzle_migrations TO portal_app;
  END IF;
EXCEPTION WHEN insufficient_privilege OR invalid_schema_name OR undefined_table THEN
  RAISE NOTICE 'portal_app may not read the migration journal: %', SQLERRM;
END;
$$;
