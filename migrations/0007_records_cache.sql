CREATE TABLE "memory_removals" (
	"bank_id" text NOT NULL,
	"memory_id" text NOT NULL,
	"changed_xid" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "changed_xid" bigint DEFAULT (pg_current_xact_id())::text::bigint NOT NULL;--> statement-breakpoint
CREATE INDEX "memory_removals_bank_changed" ON "memory_removals" USING btree ("bank_id","changed_xid");--> statement-breakpoint
CREATE INDEX "memories_bank_changed" ON "memories" USING btree ("bank_id","changed_xid");--> statement-breakpoint
CREATE FUNCTION "memories_changed_xid"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.changed_xid := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "memories_changed_xid" BEFORE UPDATE OF "bank_id", "problem", "reasoning", "answer", "answer_canonical", "problem_hash", "verification", "trust", "status", "recalled_count", "helped_count" ON "memories" FOR EACH ROW EXECUTE FUNCTION "memories_changed_xid"();--> statement-breakpoint
CREATE FUNCTION "memories_removed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- a bank's own deletion takes its memories along: nothing is left to forget them from
  IF EXISTS (SELECT 1 FROM banks WHERE id = OLD.bank_id) THEN
    INSERT INTO memory_removals (bank_id, memory_id, changed_xid)
      VALUES (OLD.bank_id, OLD.id, pg_current_xact_id()::text::bigint);
  END IF;
  RETURN OLD;
END
$$;--> statement-breakpoint
CREATE TRIGGER "memories_removed" AFTER DELETE ON "memories" FOR EACH ROW EXECUTE FUNCTION "memories_removed"();
