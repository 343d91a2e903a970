-- Issue 13: the database enforces the append, not only the application (docs/AUDIT.md, "Who can do what").
-- portal_app loses INSERT on audit_log: entries enter only through audit_chain_append, a SECURITY DEFINER
-- function owned by the migrating role, which continues the chain from its head (dense seq, each prev_hmac
-- the hmac before it) and removes the inbox rows that are on the chain by then, in the same statement. It cannot check HMACs
-- (the database holds no key): the drain and the verifiers do.
CREATE FUNCTION audit_chain_append(p_inbox_ids bigint[], p_entries jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  head_seq bigint;
  head_hmac text;
  n bigint;
  lo bigint;
  hi bigint;
  bad bigint;
  removed bigint;
BEGIN
  -- The one chain lock (lib/audit/append.ts CHAIN_LOCK, "AUDI"); re-entrant for a drain that holds it.
  PERFORM pg_advisory_xact_lock(1096107081);
  SELECT a.seq, a.hmac INTO head_seq, head_hmac FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
  head_seq := coalesce(head_seq, 0);
  head_hmac := coalesce(head_hmac, repeat('0', 64));
  -- One pass over the batch: its size, its bounds, and the first entry that does not link to the one
  -- before it (the head, for the first). The link is judged only once the seqs are known to be dense.
  SELECT count(*), min(l.seq), max(l.seq), min(l.seq) FILTER (WHERE l.prev_hmac IS DISTINCT FROM l.before)
    INTO n, lo, hi, bad
    FROM (
      SELECT e.seq, e.prev_hmac, lag(e.hmac, 1, head_hmac) OVER (ORDER BY e.seq) AS before
      FROM jsonb_to_recordset(p_entries) AS e(seq bigint, prev_hmac text, hmac text)
    ) l;
  IF n = 0 THEN
    RAISE EXCEPTION 'audit_chain_append: no entries' USING ERRCODE = 'check_violation';
  END IF;
  IF lo IS DISTINCT FROM head_seq + 1 OR hi - lo + 1 <> n THEN
    RAISE EXCEPTION 'audit_chain_append: entries % to % (% of them) do not continue the chain after seq %',
      lo, hi, n, head_seq USING ERRCODE = 'check_violation';
  END IF;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'audit_chain_append: entry % does not link to the entry before it', bad
      USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO audit_log (seq, id, occurred_at, request_id, actor_staff_id, actor_email, acting_org_id,
      acting_context_id, org_id, action, target_type, target_id, outcome, diff, src_ip, user_agent,
      enforcement_action, policy_rule_id, pack_id, framework_ref, hmac_key_id, prev_hmac, hmac)
    SELECT seq, id, occurred_at, request_id, actor_staff_id, actor_email, acting_org_id,
      acting_context_id, org_id, action, target_type, target_id, outcome, diff, src_ip, user_agent,
      enforcement_action, policy_rule_id, pack_id, framework_ref, hmac_key_id, prev_hmac, hmac
    FROM jsonb_populate_recordset(NULL::audit_log, p_entries);
  IF cardinality(p_inbox_ids) > 0 THEN
    -- Each inbox row removed must be on the chain by now (this call's entries or an earlier call's in the
    -- same transaction): every entry it holds, by id, or else an audit.inbox_rejected entry that names it.
    -- So an inbox row cannot be made to disappear; a refusal rolls the delete back with the transaction.
    -- CASE keeps malformed rows (rejected ones) from failing casts, and asks for a rejection only when an
    -- entry is missing.
    WITH gone AS (DELETE FROM audit_inbox WHERE id = ANY(p_inbox_ids) RETURNING id, entries)
    SELECT count(*), min(g.id) FILTER (WHERE g.lost) INTO removed, bad
      FROM (
        SELECT d.id, CASE WHEN EXISTS (
            SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d.entries) = 'array' THEN d.entries ELSE '[null]' END) x
            WHERE NOT EXISTS (
              SELECT 1 FROM audit_log a
              WHERE a.id = CASE WHEN x->>'id' ~ '^[0-9a-fA-F-]{36}$' THEN (x->>'id')::uuid END))
          THEN NOT EXISTS (
            SELECT 1 FROM audit_log a
            WHERE a.action = 'audit.inbox_rejected' AND a.diff->>'inbox_id' = d.id::text)
          ELSE false END AS lost
        FROM gone d
      ) g;
    IF bad IS NOT NULL THEN
      RAISE EXCEPTION 'audit_chain_append: inbox row % is not carried onto the chain', bad
        USING ERRCODE = 'check_violation';
    END IF;
    IF removed <> cardinality(p_inbox_ids) THEN
      RAISE EXCEPTION 'audit_chain_append: % of % inbox rows are gone', cardinality(p_inbox_ids) - removed,
        cardinality(p_inbox_ids) USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN hi;
END;
$$;
--> statement-breakpoint
-- The drain's first step in one round trip: the chain lock, then (a statement of its own, so under READ
-- COMMITTED it sees what the previous holder committed) the oldest inbox rows with the head beside them.
-- Every round trip of the drain is one that all audited writers wait for (lib/audit/inbox.ts).
CREATE FUNCTION audit_inbox_take(p_limit integer)
RETURNS TABLE (id bigint, entries jsonb, key_id text, mac text, created_ms float8, head_seq bigint, head_hmac text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(1096107081);
  RETURN QUERY
    WITH head AS (SELECT a.seq, a.hmac FROM audit_log a ORDER BY a.seq DESC LIMIT 1)
    SELECT i.id, i.entries, i.key_id, i.mac, (extract(epoch FROM i.created_at) * 1000)::float8, h.seq, h.hmac
    FROM audit_inbox i LEFT JOIN head h ON true ORDER BY i.id LIMIT p_limit;
END;
$$;
--> statement-breakpoint
-- SIEM delivery: delivered_seq only moves forward, never past the head, and only through this function
-- (lib/siem/splunk.ts), by the lease holder, from the seq it read (compare and swap).
CREATE FUNCTION siem_cursor_advance(p_sink text, p_owner text, p_from bigint, p_to bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  head_seq bigint;
BEGIN
  SELECT coalesce(max(seq), 0) INTO head_seq FROM audit_log;
  IF p_to <= p_from OR p_to > head_seq THEN
    RAISE EXCEPTION 'siem_cursor_advance: the cursor moves forward to at most the head (seq %), not from % to %',
      head_seq, p_from, p_to USING ERRCODE = 'check_violation';
  END IF;
  UPDATE siem_cursor
    SET delivered_seq = p_to, failures = 0, last_attempt_at = now(), last_success_at = now(),
        last_error = NULL, next_attempt_at = NULL, updated_at = now()
    WHERE sink = p_sink AND lease_owner = p_owner AND delivered_seq = p_from;
  RETURN FOUND;
END;
$$;
--> statement-breakpoint
CREATE FUNCTION siem_cursor_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.delivered_seq < OLD.delivered_seq THEN
    RAISE EXCEPTION 'siem_cursor: delivered_seq moves only forward (% to % refused)', OLD.delivered_seq,
      NEW.delivered_seq USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER siem_cursor_forward_only BEFORE UPDATE ON siem_cursor
  FOR EACH ROW EXECUTE FUNCTION siem_cursor_forward_only();
--> statement-breakpoint
ALTER TABLE siem_cursor ENABLE ALWAYS TRIGGER siem_cursor_forward_only;
--> statement-breakpoint
-- A verification run's verdict is evidence: once a run has its result (or is valid or broken) nothing
-- changes it, and no run is deleted. While it runs, its progress and heartbeat may change.
CREATE FUNCTION audit_verify_runs_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'audit_verify_runs: % refused, verification runs are kept', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.result IS NOT NULL OR OLD.status IN ('valid', 'broken')
     OR (OLD.status = 'failed' AND NEW.status <> 'failed')
     OR NEW.id <> OLD.id OR NEW.requested_by IS DISTINCT FROM OLD.requested_by
     OR NEW.requested_email <> OLD.requested_email OR NEW.source <> OLD.source
     OR NEW.from_seq <> OLD.from_seq OR NEW.to_seq <> OLD.to_seq OR NEW.started_at <> OLD.started_at
     OR NEW.runner <> OLD.runner THEN
    RAISE EXCEPTION 'audit_verify_runs: the verdict of run % is final', OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_verify_runs_final BEFORE UPDATE OR DELETE ON audit_verify_runs
  FOR EACH ROW EXECUTE FUNCTION audit_verify_runs_final();
--> statement-breakpoint
CREATE TRIGGER audit_verify_runs_no_truncate BEFORE TRUNCATE ON audit_verify_runs
  FOR EACH STATEMENT EXECUTE FUNCTION audit_verify_runs_final();
--> statement-breakpoint
ALTER TABLE audit_verify_runs ENABLE ALWAYS TRIGGER audit_verify_runs_final;
--> statement-breakpoint
ALTER TABLE audit_verify_runs ENABLE ALWAYS TRIGGER audit_verify_runs_no_truncate;
--> statement-breakpoint
DO $$
BEGIN
  REVOKE ALL ON FUNCTION audit_chain_append(bigint[], jsonb) FROM PUBLIC;
  REVOKE ALL ON FUNCTION siem_cursor_advance(text, text, bigint, bigint) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION audit_chain_append(bigint[], jsonb) TO portal_app;
  GRANT EXECUTE ON FUNCTION siem_cursor_advance(text, text, bigint, bigint) TO portal_app;
  GRANT EXECUTE ON FUNCTION audit_inbox_take(integer) TO portal_app;
  REVOKE INSERT ON audit_log FROM portal_app;
  REVOKE INSERT ON audit_log FROM PUBLIC;
  -- The inbox: rows go in with their id and created_at from the defaults (the drain's grace after a key
  -- rotation reads created_at), and come out only through audit_chain_append.
  REVOKE INSERT, DELETE ON audit_inbox FROM portal_app;
  GRANT INSERT (entries, key_id, mac) ON audit_inbox TO portal_app;
  REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON siem_cursor FROM portal_app;
  GRANT INSERT (sink) ON siem_cursor TO portal_app;
  GRANT UPDATE (lease_owner, lease_until, last_attempt_at, last_error, last_error_at, failures,
    next_attempt_at, updated_at) ON siem_cursor TO portal_app;
  REVOKE DELETE, TRUNCATE ON audit_verify_runs FROM portal_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'portal_app role not configured: %', SQLERRM;
END;
$$;
