CREATE TABLE "audit_checkpoint_cosignatures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"checkpoint_id" uuid NOT NULL,
	"witness_name" text NOT NULL,
	"witness_key" text NOT NULL,
	"witness_url" text NOT NULL,
	"outcome" text NOT NULL,
	"http_status" integer,
	"old_size" bigint,
	"witness_size" bigint,
	"cosigned_at" timestamp with time zone,
	"cosignature" text,
	"reason" text,
	"alarm" boolean DEFAULT false NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_checkpoint_cosignatures_outcome" CHECK ("audit_checkpoint_cosignatures"."outcome" in ('cosigned', 'refused', 'unreachable', 'invalid')),
	CONSTRAINT "audit_checkpoint_cosignatures_cosigned" CHECK (("audit_checkpoint_cosignatures"."outcome" = 'cosigned') = ("audit_checkpoint_cosignatures"."cosignature" is not null and "audit_checkpoint_cosignatures"."cosigned_at" is not null))
);
--> statement-breakpoint
ALTER TABLE "audit_checkpoint_cosignatures" ADD CONSTRAINT "audit_checkpoint_cosignatures_checkpoint_id_audit_checkpoints_id_fk" FOREIGN KEY ("checkpoint_id") REFERENCES "public"."audit_checkpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_checkpoint_cosignatures_witness" ON "audit_checkpoint_cosignatures" USING btree ("witness_key","checkpoint_id");--> statement-breakpoint
-- Issue 18 item 4: what the witnesses answered for each checkpoint (docs/AUDIT.md, "Witnesses"). Evidence like
-- audit_checkpoints (migration 0013): ENABLE ALWAYS triggers refuse UPDATE, DELETE and TRUNCATE, so that
-- session_replication_role = replica does not skip them, and portal_app may only read and insert.
CREATE FUNCTION audit_checkpoint_cosignatures_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoint_cosignatures is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_checkpoint_cosignatures_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoint_cosignatures
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_cosignatures_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoint_cosignatures_no_truncate BEFORE TRUNCATE ON audit_checkpoint_cosignatures
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_cosignatures_refuse_change();
--> statement-breakpoint
ALTER TABLE audit_checkpoint_cosignatures ENABLE ALWAYS TRIGGER audit_checkpoint_cosignatures_no_update_delete;
--> statement-breakpoint
ALTER TABLE audit_checkpoint_cosignatures ENABLE ALWAYS TRIGGER audit_checkpoint_cosignatures_no_truncate;
--> statement-breakpoint
DO $$
BEGIN
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoint_cosignatures FROM portal_app;
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoint_cosignatures FROM PUBLIC;
  GRANT SELECT, INSERT ON audit_checkpoint_cosignatures TO portal_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'portal_app role not configured: %', SQLERRM;
END;
$$;
