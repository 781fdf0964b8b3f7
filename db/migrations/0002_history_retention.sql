ALTER TABLE "stores" ADD COLUMN "history_retention_days" integer DEFAULT 365 NOT NULL;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "outbox" USING btree ("published_at") WHERE "outbox"."published_at" is not null;--> statement-breakpoint
ALTER TABLE "stores" ADD CONSTRAINT "stores_history_retention_days_range" CHECK ("stores"."history_retention_days" between 1 and 3650);