CREATE TABLE "admins" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid,
	"username" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"token_version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "admins_store_username_unique" UNIQUE("store_id","username"),
	CONSTRAINT "admins_role_valid" CHECK ("admins"."role" in ('store_admin', 'super_admin')),
	CONSTRAINT "admins_role_matches_store" CHECK (("admins"."role" = 'store_admin' and "admins"."store_id" is not null) or ("admins"."role" = 'super_admin' and "admins"."store_id" is null)),
	CONSTRAINT "admins_username_not_blank" CHECK (length(btrim("admins"."username")) > 0)
);
--> statement-breakpoint
CREATE TABLE "dining_tables" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"table_number" integer NOT NULL,
	"password_hash" text NOT NULL,
	"password_version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dining_tables_store_table_number_unique" UNIQUE("store_id","table_number"),
	CONSTRAINT "dining_tables_store_id_id_unique" UNIQUE("store_id","id"),
	CONSTRAINT "dining_tables_table_number_positive" CHECK ("dining_tables"."table_number" > 0),
	CONSTRAINT "dining_tables_password_version_positive" CHECK ("dining_tables"."password_version" > 0)
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"store_id" uuid NOT NULL,
	"table_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"order_id" uuid,
	"status_code" integer,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("table_id","key"),
	CONSTRAINT "idempotency_keys_key_length" CHECK (length("idempotency_keys"."key") between 1 and 255)
);
--> statement-breakpoint
CREATE TABLE "menu_categories" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"name" text NOT NULL,
	"display_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "menu_categories_store_name_unique" UNIQUE("store_id","name"),
	CONSTRAINT "menu_categories_store_id_id_unique" UNIQUE("store_id","id"),
	CONSTRAINT "menu_categories_name_not_blank" CHECK (length(btrim("menu_categories"."name")) > 0)
);
--> statement-breakpoint
CREATE TABLE "menus" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"category_id" uuid NOT NULL,
	"name" text NOT NULL,
	"price" integer NOT NULL,
	"description" text,
	"is_available" boolean DEFAULT true NOT NULL,
	"display_order" integer DEFAULT 0 NOT NULL,
	"image_status" text,
	"image_original_key" text,
	"image_thumbnail_key" text,
	"image_display_key" text,
	"image_error" text,
	"image_updated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "menus_price_not_negative" CHECK ("menus"."price" >= 0),
	CONSTRAINT "menus_name_not_blank" CHECK (length(btrim("menus"."name")) > 0),
	CONSTRAINT "menus_image_status_valid" CHECK ("menus"."image_status" in ('processing', 'ready', 'failed')),
	CONSTRAINT "menus_image_has_original" CHECK ("menus"."image_status" is null or "menus"."image_original_key" is not null),
	CONSTRAINT "menus_image_ready_has_variants" CHECK ("menus"."image_status" <> 'ready' or ("menus"."image_thumbnail_key" is not null and "menus"."image_display_key" is not null))
);
--> statement-breakpoint
CREATE TABLE "order_history" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"table_id" uuid,
	"table_number" integer NOT NULL,
	"table_session_id" uuid NOT NULL,
	"original_order_id" uuid NOT NULL,
	"order_number" integer NOT NULL,
	"status" text NOT NULL,
	"total_amount" integer NOT NULL,
	"ordered_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "order_history_original_order_unique" UNIQUE("original_order_id"),
	CONSTRAINT "order_history_status_valid" CHECK ("order_history"."status" in ('pending', 'preparing', 'cooked', 'delivered')),
	CONSTRAINT "order_history_total_not_negative" CHECK ("order_history"."total_amount" >= 0),
	CONSTRAINT "order_history_completed_after_ordered" CHECK ("order_history"."completed_at" >= "order_history"."ordered_at")
);
--> statement-breakpoint
CREATE TABLE "order_history_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"order_history_id" uuid NOT NULL,
	"menu_id" uuid,
	"position" integer NOT NULL,
	"menu_name" text NOT NULL,
	"unit_price" integer NOT NULL,
	"quantity" integer NOT NULL,
	"subtotal" integer NOT NULL,
	CONSTRAINT "order_history_items_history_position_unique" UNIQUE("order_history_id","position"),
	CONSTRAINT "order_history_items_position_not_negative" CHECK ("order_history_items"."position" >= 0),
	CONSTRAINT "order_history_items_unit_price_not_negative" CHECK ("order_history_items"."unit_price" >= 0),
	CONSTRAINT "order_history_items_quantity_range" CHECK ("order_history_items"."quantity" between 1 and 99),
	CONSTRAINT "order_history_items_subtotal_matches" CHECK ("order_history_items"."subtotal" = "order_history_items"."unit_price" * "order_history_items"."quantity")
);
--> statement-breakpoint
CREATE TABLE "order_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"order_id" uuid NOT NULL,
	"menu_id" uuid,
	"position" integer NOT NULL,
	"menu_name" text NOT NULL,
	"unit_price" integer NOT NULL,
	"quantity" integer NOT NULL,
	"subtotal" integer NOT NULL,
	CONSTRAINT "order_items_order_position_unique" UNIQUE("order_id","position"),
	CONSTRAINT "order_items_position_not_negative" CHECK ("order_items"."position" >= 0),
	CONSTRAINT "order_items_unit_price_not_negative" CHECK ("order_items"."unit_price" >= 0),
	CONSTRAINT "order_items_quantity_range" CHECK ("order_items"."quantity" between 1 and 99),
	CONSTRAINT "order_items_subtotal_matches" CHECK ("order_items"."subtotal" = "order_items"."unit_price" * "order_items"."quantity")
);
--> statement-breakpoint
CREATE TABLE "order_number_counters" (
	"store_id" uuid NOT NULL,
	"business_date" date NOT NULL,
	"last_number" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "order_number_counters_pkey" PRIMARY KEY("store_id","business_date"),
	CONSTRAINT "order_number_counters_positive" CHECK ("order_number_counters"."last_number" > 0)
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"table_id" uuid NOT NULL,
	"table_session_id" uuid NOT NULL,
	"order_number" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"total_amount" integer NOT NULL,
	"business_date" date NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_store_day_number_unique" UNIQUE("store_id","business_date","order_number"),
	CONSTRAINT "orders_status_valid" CHECK ("orders"."status" in ('pending', 'preparing', 'cooked', 'delivered')),
	CONSTRAINT "orders_order_number_positive" CHECK ("orders"."order_number" > 0),
	CONSTRAINT "orders_total_not_negative" CHECK ("orders"."total_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"store_id" uuid NOT NULL,
	"table_id" uuid,
	"table_session_id" uuid,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	CONSTRAINT "outbox_type_valid" CHECK ("outbox"."type" in ('order.created', 'order.status_changed', 'order.deleted', 'table.session_completed', 'menu.updated', 'menu.image_uploaded', 'menu.image_ready'))
);
--> statement-breakpoint
CREATE TABLE "stores" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"timezone" text DEFAULT 'Asia/Seoul' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "table_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"table_id" uuid NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	CONSTRAINT "table_sessions_store_table_id_unique" UNIQUE("store_id","table_id","id"),
	CONSTRAINT "table_sessions_ends_after_start" CHECK ("table_sessions"."ended_at" >= "table_sessions"."started_at")
);
--> statement-breakpoint
ALTER TABLE "admins" ADD CONSTRAINT "admins_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dining_tables" ADD CONSTRAINT "dining_tables_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_table_fk" FOREIGN KEY ("store_id","table_id") REFERENCES "public"."dining_tables"("store_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "menu_categories" ADD CONSTRAINT "menu_categories_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "menus" ADD CONSTRAINT "menus_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "menus" ADD CONSTRAINT "menus_category_fk" FOREIGN KEY ("store_id","category_id") REFERENCES "public"."menu_categories"("store_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_history" ADD CONSTRAINT "order_history_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_history" ADD CONSTRAINT "order_history_table_id_dining_tables_id_fk" FOREIGN KEY ("table_id") REFERENCES "public"."dining_tables"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_history_items" ADD CONSTRAINT "order_history_items_order_history_id_order_history_id_fk" FOREIGN KEY ("order_history_id") REFERENCES "public"."order_history"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_menu_id_menus_id_fk" FOREIGN KEY ("menu_id") REFERENCES "public"."menus"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_number_counters" ADD CONSTRAINT "order_number_counters_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_session_fk" FOREIGN KEY ("store_id","table_id","table_session_id") REFERENCES "public"."table_sessions"("store_id","table_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "table_sessions" ADD CONSTRAINT "table_sessions_store_id_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "table_sessions" ADD CONSTRAINT "table_sessions_table_fk" FOREIGN KEY ("store_id","table_id") REFERENCES "public"."dining_tables"("store_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "admins_super_admin_username_unique" ON "admins" USING btree ("username") WHERE "admins"."role" = 'super_admin';--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "menus_store_category_order_idx" ON "menus" USING btree ("store_id","category_id","display_order");--> statement-breakpoint
CREATE INDEX "order_history_table_completed_idx" ON "order_history" USING btree ("table_id","completed_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "order_history_store_completed_idx" ON "order_history" USING btree ("store_id","completed_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "order_items_menu_idx" ON "order_items" USING btree ("menu_id");--> statement-breakpoint
CREATE INDEX "orders_session_created_idx" ON "orders" USING btree ("table_session_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "orders_store_status_idx" ON "orders" USING btree ("store_id","status");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "outbox" USING btree ("id") WHERE "outbox"."published_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "table_sessions_one_active_per_table" ON "table_sessions" USING btree ("table_id") WHERE "table_sessions"."ended_at" is null;