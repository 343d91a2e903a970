CREATE TABLE "audit_verify_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"requested_by" uuid,
	"requested_email" text NOT NULL,
	"source" text NOT NULL,
	"from_seq" bigint NOT NULL,
	"to_seq" bigint NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"checked" bigint DEFAULT 0 NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"result" jsonb,
	"runner" text NOT NULL,
	CONSTRAINT "audit_verify_runs_status" CHECK ("audit_verify_runs"."status" in ('running', 'valid', 'broken', 'failed')),
	CONSTRAINT "audit_verify_runs_range" CHECK ("audit_verify_runs"."from_seq" >= 1 and "audit_verify_runs"."to_seq" >= "audit_verify_runs"."from_seq" - 1)
);
--> statement-breakpoint
CREATE INDEX "audit_verify_runs_started" ON "audit_verify_runs" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "audit_checkpoints_seq" ON "audit_checkpoints" USING btree ("chain_id","seq");--> statement-breakpoint
CREATE INDEX "audit_checkpoints_signed" ON "audit_checkpoints" USING btree ("signed_at");