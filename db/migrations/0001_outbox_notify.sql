-- Custom migration: drizzle-kit cannot express functions or triggers.
-- Every transaction that writes outbox rows wakes the relay (LISTEN table_order_outbox) when it
-- commits, never before, so no domain function has to remember to call pg_notify. The trigger is
-- per statement and the payload is empty: PostgreSQL folds identical notifications of one
-- transaction into one, and the relay reads the rows themselves.
CREATE FUNCTION "outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('table_order_outbox', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "outbox_notify_after_insert" AFTER INSERT ON "outbox"
  FOR EACH STATEMENT EXECUTE FUNCTION "outbox_notify"();
