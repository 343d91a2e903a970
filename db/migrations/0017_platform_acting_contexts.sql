-- Issue 14: the platform refuses a token whose acting context has ended (docs/PLATFORM_CONTRACT.md). It reads
-- the contexts through this view, granted to platform_reader like platform_org_config: no reason, no ticket.
CREATE VIEW platform_acting_contexts AS
SELECT
  ac.id AS acting_context_id,
  ac.staff_id,
  ac.org_id,
  ac.started_at,
  ac.expires_at,
  ac.ended_at,
  ac.end_reason,
  (ac.ended_at IS NULL AND ac.expires_at > now()) AS live
FROM acting_contexts ac;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'platform_reader') THEN
    GRANT SELECT ON platform_acting_contexts TO platform_reader;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'platform_reader role not configured: %', SQLERRM;
END;
$$;
