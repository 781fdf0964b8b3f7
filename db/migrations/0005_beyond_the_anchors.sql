ALTER TABLE "outbox" DROP CONSTRAINT "outbox_type_valid";--> statement-breakpoint
ALTER TABLE "dining_tables" ADD COLUMN "device_id" uuid;--> statement-breakpoint
ALTER TABLE "dining_tables" ADD COLUMN "device_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "acknowledged_by" uuid;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "correlation_id" text;--> statement-breakpoint
ALTER TABLE "stores" ADD COLUMN "order_ack_seconds" integer DEFAULT 60 NOT NULL;--> statement-breakpoint
ALTER TABLE "dining_tables" ADD CONSTRAINT "dining_tables_device_seen" CHECK (("dining_tables"."device_id" is null) = ("dining_tables"."device_seen_at" is null));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_acknowledged_record" CHECK (("orders"."acknowledged_at" is null) = ("orders"."acknowledged_by" is null));--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_correlation_id_shape" CHECK ("outbox"."correlation_id" ~ '^[A-Za-z0-9_-]{1,64}$');--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_type_valid" CHECK ("outbox"."type" in ('order.created', 'order.status_changed', 'order.cancelled', 'order.acknowledged', 'table.session_completed', 'table.session_moved', 'table.session_merged', 'table.call_requested', 'table.call_acknowledged', 'menu.updated', 'menu.image_uploaded', 'menu.image_ready', 'menu.availability_changed'));--> statement-breakpoint
ALTER TABLE "stores" ADD CONSTRAINT "stores_order_ack_seconds_range" CHECK ("stores"."order_ack_seconds" between 5 and 3600);