CREATE TABLE "audit_merkle_tiles" (
	"level" smallint NOT NULL,
	"idx" bigint NOT NULL,
	"start" smallint NOT NULL,
	"width" smallint NOT NULL,
	"hashes" "bytea" NOT NULL,
	CONSTRAINT "audit_merkle_tiles_level_idx_start_pk" PRIMARY KEY("level","idx","start"),
	CONSTRAINT "audit_merkle_tiles_place" CHECK ("audit_merkle_tiles"."level" >= 0 and "audit_merkle_tiles"."idx" >= 0 and "audit_merkle_tiles"."start" >= 0),
	CONSTRAINT "audit_merkle_tiles_width" CHECK ("audit_merkle_tiles"."width" >= 1 and "audit_merkle_tiles"."start" + "audit_merkle_tiles"."width" <= 256 and octet_length("audit_merkle_tiles"."hashes") = 32 * "audit_merkle_tiles"."width")
);
--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN "tree_size" bigint;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN "root_hash" text;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN "note" text;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD CONSTRAINT "audit_checkpoints_note" CHECK (("audit_checkpoints"."tree_size" is null and "audit_checkpoints"."root_hash" is null and "audit_checkpoints"."note" is null) or ("audit_checkpoints"."tree_size" >= 0 and "audit_checkpoints"."root_hash" ~ '^[0-9a-f]{64}$' and "audit_checkpoints"."note" is not null));--> statement-breakpoint
-- Issue 18: the Merkle tree over the chain (lib/audit/merkle.ts; docs/AUDIT.md, "The Merkle tree"), as C2SP
-- tlog-tiles. A tile grows by rows: each holds the hashes one append added at `start`, so an append writes
-- only its new hashes (rewriting a partial tile of up to 8 KB on every drain nearly doubled the WAL of an
-- audited write). Rows are evidence like audit_log's: insert-only, ENABLE ALWAYS triggers refuse UPDATE,
-- DELETE and TRUNCATE, so session_replication_role = replica does not skip them. Hashes are random bytes:
-- never worth compressing.
ALTER TABLE audit_merkle_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;
--> statement-breakpoint
CREATE FUNCTION audit_merkle_tiles_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_merkle_tiles is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_merkle_tiles_no_update_delete BEFORE UPDATE OR DELETE ON audit_merkle_tiles
  FOR EACH ROW EXECUTE FUNCTION audit_merkle_tiles_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_merkle_tiles_no_truncate BEFORE TRUNCATE ON audit_merkle_tiles
  FOR EACH STATEMENT EXECUTE FUNCTION audit_merkle_tiles_refuse_change();
--> statement-breakpoint
ALTER TABLE audit_merkle_tiles ENABLE ALWAYS TRIGGER audit_merkle_tiles_no_update_delete;
--> statement-breakpoint
ALTER TABLE audit_merkle_tiles ENABLE ALWAYS TRIGGER audit_merkle_tiles_no_truncate;
--> statement-breakpoint
-- How many hashes the tree holds at tile level `p_level` (level 0: the tree's size): where its last row ends.
CREATE FUNCTION audit_merkle_count(p_level integer) RETURNS bigint LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
  SELECT coalesce((SELECT t.idx * 256 + t.start + t.width FROM audit_merkle_tiles t WHERE t.level = p_level
                   ORDER BY t.idx DESC, t.start DESC LIMIT 1), 0)
$$;
--> statement-breakpoint
-- Appends hashes to tiles, taking the tree from p_from leaves to p_to. p_tiles: [{level, idx, start, hashes
-- (hex)}]. The database cannot hash RFC 8785 JSON, so the hashes are the application's (verifiers recompute
-- them from the entries); what it checks is the shape: the tree had p_from leaves, each row continues its
-- tile where it stood, and afterwards every level holds exactly ⌊p_to / 256^level⌋ hashes. Called by the two
-- functions below, in the chain lock; granted to no one.
CREATE FUNCTION audit_merkle_put(p_from bigint, p_to bigint, p_tiles jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  held bigint;
  bad text;
BEGIN
  -- Four statements in all: this runs inside the chain lock, on every drain.
  SELECT coalesce((SELECT t.idx * 256 + t.start + t.width FROM audit_merkle_tiles t WHERE t.level = 0
                   ORDER BY t.idx DESC, t.start DESC LIMIT 1), 0) INTO held;
  IF held <> p_from THEN
    RAISE EXCEPTION 'audit_merkle: the tree holds % leaves, not %', held, p_from
      USING ERRCODE = 'serialization_failure';
  END IF;
  SELECT string_agg(format('tile %s/%s holds %s hashes, not %s', x.level, x.idx, coalesce(e.ends, 0), x.start), '; ')
    INTO bad
    FROM jsonb_to_recordset(p_tiles) AS x(level integer, idx bigint, start integer, hashes text)
    LEFT JOIN LATERAL (SELECT m.start + m.width AS ends FROM audit_merkle_tiles m
                       WHERE m.level = x.level AND m.idx = x.idx ORDER BY m.start DESC LIMIT 1) e ON true
    WHERE coalesce(e.ends, 0) <> x.start;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'audit_merkle: %', bad USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO audit_merkle_tiles (level, idx, start, width, hashes)
    SELECT x.level, x.idx, x.start, octet_length(decode(x.hashes, 'hex')) / 32, decode(x.hashes, 'hex')
    FROM jsonb_to_recordset(p_tiles) AS x(level integer, idx bigint, start integer, hashes text);
  SELECT string_agg(format('level %s holds %s hashes, a tree of %s leaves has %s', l, c.n, p_to,
                           floor(p_to / (256::numeric ^ l))), '; ')
    INTO bad
    FROM generate_series(0, 7) AS l,
      LATERAL (SELECT coalesce((SELECT t.idx * 256 + t.start + t.width FROM audit_merkle_tiles t
                                WHERE t.level = l ORDER BY t.idx DESC, t.start DESC LIMIT 1), 0) AS n) c
    WHERE c.n <> floor(p_to / (256::numeric ^ l));
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'audit_merkle: %', bad USING ERRCODE = 'check_violation';
  END IF;
END;
$$;
--> statement-breakpoint
-- The drain's append with the tree: audit_chain_append (migration 0015), then, when p_tiles is not null,
-- the tree extended over the same entries in the same statement (no extra round trip in the chain lock).
-- Null p_tiles appends without the tree (a tree still being built catches up by audit_merkle_extend).
CREATE FUNCTION audit_chain_append(p_inbox_ids bigint[], p_entries jsonb, p_tiles jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  hi bigint;
BEGIN
  hi := audit_chain_append(p_inbox_ids, p_entries);
  IF p_tiles IS NOT NULL THEN
    PERFORM audit_merkle_put(hi - jsonb_array_length(p_entries), hi, p_tiles);
  END IF;
  RETURN hi;
END;
$$;
--> statement-breakpoint
-- Builds the tree over entries already on the chain (a chain older than the tree, or entries an older
-- replica appended without it), never beyond the head.
CREATE FUNCTION audit_merkle_extend(p_from bigint, p_to bigint, p_tiles jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  head_seq bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(1096107081);
  SELECT coalesce(max(a.seq), 0) INTO head_seq FROM audit_log a;
  IF p_to > head_seq OR p_to <= p_from THEN
    RAISE EXCEPTION 'audit_merkle_extend: % to % leaves, but the chain ends at seq %', p_from, p_to, head_seq
      USING ERRCODE = 'check_violation';
  END IF;
  PERFORM audit_merkle_put(p_from, p_to, p_tiles);
END;
$$;
--> statement-breakpoint
DO $$
BEGIN
  REVOKE ALL ON FUNCTION audit_merkle_put(bigint, bigint, jsonb) FROM PUBLIC;
  REVOKE ALL ON FUNCTION audit_chain_append(bigint[], jsonb, jsonb) FROM PUBLIC;
  REVOKE ALL ON FUNCTION audit_merkle_extend(bigint, bigint, jsonb) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION audit_chain_append(bigint[], jsonb, jsonb) TO portal_app;
  GRANT EXECUTE ON FUNCTION audit_merkle_extend(bigint, bigint, jsonb) TO portal_app;
  REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_merkle_tiles FROM portal_app;
  REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_merkle_tiles FROM PUBLIC;
  GRANT SELECT ON audit_merkle_tiles TO portal_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'portal_app role not configured: %', SQLERRM;
END;
$$;
