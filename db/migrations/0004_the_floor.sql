CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"store_id" uuid,
	"actor_role" text NOT NULL,
	"actor_id" uuid NOT NULL,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "audit_log_actor_role_valid" CHECK ("audit_log"."actor_role" in ('store_admin', 'super_admin')),
	CONSTRAINT "audit_log_action_not_blank" CHECK (length(btrim("audit_log"."action")) > 0),
	CONSTRAINT "audit_log_details_object" CHECK (jsonb_typeof("audit_log"."details") = 'object')
);
--> statement-breakpoint
CREATE TABLE "staff_calls" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"table_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"note" text,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" uuid,
	"closed_at" timestamp with time zone,
	CONSTRAINT "staff_calls_reason_valid" CHECK ("staff_calls"."reason" in ('water', 'cutlery', 'bill', 'help', 'other')),
	CONSTRAINT "staff_calls_status_valid" CHECK ("staff_calls"."status" in ('open', 'acknowledged', 'closed')),
	CONSTRAINT "staff_calls_note_length" CHECK (char_length("staff_calls"."note") <= 100),
	CONSTRAINT "staff_calls_acknowledged_record" CHECK ("staff_calls"."status" <> 'acknowledged' or ("staff_calls"."acknowledged_at" is not null and "staff_calls"."acknowledged_by" is not null)),
	CONSTRAINT "staff_calls_closed_record" CHECK ("staff_calls"."status" <> 'closed' or "staff_calls"."closed_at" is not null)
);
--> statement-breakpoint
ALTER TABLE "order_history" DROP CONSTRAINT "order_history_status_valid";--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_status_valid";--> statement-breakpoint
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_type_valid";--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_session_fk";
--> statement-breakpoint
ALTER TABLE "order_history" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "order_history" ADD COLUMN "cancelled_by" uuid;--> statement-breakpoint
ALTER TABLE "order_history" ADD COLUMN "cancel_reason" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "cancelled_by" uuid;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "cancel_reason" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "actor_role" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "actor_id" uuid;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_calls" ADD CONSTRAINT "staff_calls_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_calls" ADD CONSTRAINT "staff_calls_table_fk" FOREIGN KEY ("store_id","table_id") REFERENCES "public"."dining_tables"("store_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_store_at_idx" ON "audit_log" USING btree ("store_id","at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "staff_calls_one_open_per_reason" ON "staff_calls" USING btree ("table_id","reason") WHERE "staff_calls"."status" = 'open';--> statement-breakpoint
CREATE INDEX "staff_calls_store_status_created_idx" ON "staff_calls" USING btree ("store_id","status","created_at");--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_session_fk" FOREIGN KEY ("store_id","table_id","table_session_id") REFERENCES "public"."table_sessions"("store_id","table_id","id") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "order_history" ADD CONSTRAINT "order_history_cancelled_has_record" CHECK (("order_history"."status" = 'cancelled') = ("order_history"."cancelled_at" is not null));--> statement-breakpoint
ALTER TABLE "order_history" ADD CONSTRAINT "order_history_cancel_reason_length" CHECK (char_length("order_history"."cancel_reason") <= 200);--> statement-breakpoint
ALTER TABLE "order_history" ADD CONSTRAINT "order_history_status_valid" CHECK ("order_history"."status" in ('pending', 'preparing', 'cooked', 'delivered', 'cancelled'));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_cancelled_has_record" CHECK (("orders"."status" = 'cancelled') = ("orders"."cancelled_at" is not null));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_cancel_reason_length" CHECK (char_length("orders"."cancel_reason") <= 200);--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_status_valid" CHECK ("orders"."status" in ('pending', 'preparing', 'cooked', 'delivered', 'cancelled'));--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_actor_whole" CHECK (("outbox"."actor_role" is null) = ("outbox"."actor_id" is null));--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_actor_role_valid" CHECK ("outbox"."actor_role" in ('store_admin', 'super_admin'));--> statement-breakpoint
-- order.deleted is gone: an admin's delete is now a cancellation. Events not yet published keep
-- their payload ({order_id, order_number, table_session_id}), which order.cancelled extends.
UPDATE "outbox" SET "type" = 'order.cancelled' WHERE "type" = 'order.deleted';--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_type_valid" CHECK ("outbox"."type" in ('order.created', 'order.status_changed', 'order.cancelled', 'table.session_completed', 'table.session_moved', 'table.session_merged', 'table.call_requested', 'table.call_acknowledged', 'menu.updated', 'menu.image_uploaded', 'menu.image_ready', 'menu.availability_changed'));