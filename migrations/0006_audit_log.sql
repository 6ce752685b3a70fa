CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"principal" text NOT NULL,
	"key_id" text,
	"bank_id" text,
	"subject" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_log_bank" ON "audit_log" USING btree ("bank_id","id");--> statement-breakpoint
CREATE INDEX "audit_log_key" ON "audit_log" USING btree ("key_id","id");