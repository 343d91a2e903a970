DROP INDEX "organizations_name_lower";--> statement-breakpoint
DROP INDEX "organizations_tier";--> statement-breakpoint
CREATE INDEX "organizations_status" ON "organizations" USING btree ("status",(lower("name") collate "C"),"id");--> statement-breakpoint
CREATE INDEX "organizations_name_lower" ON "organizations" USING btree ((lower("name") collate "C"),"id");--> statement-breakpoint
CREATE INDEX "organizations_tier" ON "organizations" USING btree ("plan_tier",(lower("name") collate "C"),"id");