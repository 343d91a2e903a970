CREATE TABLE "audit_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entries" jsonb NOT NULL,
	"key_id" text NOT NULL,
	"mac" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
