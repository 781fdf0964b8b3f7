CREATE TABLE "menu_option_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"menu_id" uuid NOT NULL,
	"name" text NOT NULL,
	"translations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"min_select" integer DEFAULT 0 NOT NULL,
	"max_select" integer DEFAULT 1 NOT NULL,
	"display_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "menu_option_groups_store_menu_id_unique" UNIQUE("store_id","menu_id","id"),
	CONSTRAINT "menu_option_groups_name_not_blank" CHECK (length(btrim("menu_option_groups"."name")) > 0),
	CONSTRAINT "menu_option_groups_translations_object" CHECK (jsonb_typeof("menu_option_groups"."translations") = 'object'),
	CONSTRAINT "menu_option_groups_min_not_negative" CHECK ("menu_option_groups"."min_select" >= 0),
	CONSTRAINT "menu_option_groups_max_positive" CHECK ("menu_option_groups"."max_select" >= 1),
	CONSTRAINT "menu_option_groups_min_le_max" CHECK ("menu_option_groups"."min_select" <= "menu_option_groups"."max_select")
);
--> statement-breakpoint
CREATE TABLE "menu_options" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"menu_id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	"name" text NOT NULL,
	"translations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"price_delta" integer DEFAULT 0 NOT NULL,
	"is_available" boolean DEFAULT true NOT NULL,
	"display_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "menu_options_name_not_blank" CHECK (length(btrim("menu_options"."name")) > 0),
	CONSTRAINT "menu_options_translations_object" CHECK (jsonb_typeof("menu_options"."translations") = 'object'),
	CONSTRAINT "menu_options_price_delta_range" CHECK ("menu_options"."price_delta" between -10000000 and 10000000)
);
--> statement-breakpoint
ALTER TABLE "dining_tables" DROP CONSTRAINT "dining_tables_store_table_number_unique";--> statement-breakpoint
ALTER TABLE "dining_tables" DROP CONSTRAINT "dining_tables_table_number_positive";--> statement-breakpoint
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_type_valid";--> statement-breakpoint
ALTER TABLE "dining_tables" ALTER COLUMN "table_number" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "order_history" ALTER COLUMN "table_number" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "menu_categories" ADD COLUMN "translations" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "menus" ADD COLUMN "translations" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "order_history" ADD COLUMN "request" text;--> statement-breakpoint
ALTER TABLE "order_history_items" ADD COLUMN "options" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "order_history_items" ADD COLUMN "note" text;--> statement-breakpoint
ALTER TABLE "order_items" ADD COLUMN "options" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "order_items" ADD COLUMN "note" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "request" text;--> statement-breakpoint
ALTER TABLE "stores" ADD COLUMN "default_language" text DEFAULT 'ko' NOT NULL;--> statement-breakpoint
ALTER TABLE "menus" ADD CONSTRAINT "menus_store_id_id_unique" UNIQUE("store_id","id");--> statement-breakpoint
ALTER TABLE "menu_option_groups" ADD CONSTRAINT "menu_option_groups_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "menu_option_groups" ADD CONSTRAINT "menu_option_groups_menu_fk" FOREIGN KEY ("store_id","menu_id") REFERENCES "public"."menus"("store_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "menu_options" ADD CONSTRAINT "menu_options_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "menu_options" ADD CONSTRAINT "menu_options_group_fk" FOREIGN KEY ("store_id","menu_id","group_id") REFERENCES "public"."menu_option_groups"("store_id","menu_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "menu_option_groups_menu_order_idx" ON "menu_option_groups" USING btree ("menu_id","display_order");--> statement-breakpoint
CREATE INDEX "menu_options_group_order_idx" ON "menu_options" USING btree ("store_id","menu_id","group_id","display_order");--> statement-breakpoint
CREATE UNIQUE INDEX "dining_tables_store_table_number_unique" ON "dining_tables" USING btree ("store_id",lower("table_number"));--> statement-breakpoint
ALTER TABLE "dining_tables" ADD CONSTRAINT "dining_tables_table_number_label" CHECK (char_length("dining_tables"."table_number") between 1 and 20 and "dining_tables"."table_number" = btrim("dining_tables"."table_number"));--> statement-breakpoint
ALTER TABLE "menu_categories" ADD CONSTRAINT "menu_categories_translations_object" CHECK (jsonb_typeof("menu_categories"."translations") = 'object');--> statement-breakpoint
ALTER TABLE "menus" ADD CONSTRAINT "menus_translations_object" CHECK (jsonb_typeof("menus"."translations") = 'object');--> statement-breakpoint
ALTER TABLE "order_history" ADD CONSTRAINT "order_history_request_length" CHECK (char_length("order_history"."request") <= 200);--> statement-breakpoint
ALTER TABLE "order_history_items" ADD CONSTRAINT "order_history_items_options_array" CHECK (jsonb_typeof("order_history_items"."options") = 'array');--> statement-breakpoint
ALTER TABLE "order_history_items" ADD CONSTRAINT "order_history_items_note_length" CHECK (char_length("order_history_items"."note") <= 100);--> statement-breakpoint
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_options_array" CHECK (jsonb_typeof("order_items"."options") = 'array');--> statement-breakpoint
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_note_length" CHECK (char_length("order_items"."note") <= 100);--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_request_length" CHECK (char_length("orders"."request") <= 200);--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_type_valid" CHECK ("outbox"."type" in ('order.created', 'order.status_changed', 'order.deleted', 'table.session_completed', 'menu.updated', 'menu.image_uploaded', 'menu.image_ready', 'menu.availability_changed'));--> statement-breakpoint
ALTER TABLE "stores" ADD CONSTRAINT "stores_default_language_valid" CHECK ("stores"."default_language" in ('ko', 'en', 'ja', 'zh'));