CREATE TABLE "index_claims" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bank_id" text NOT NULL,
	"first_seq" bigint NOT NULL,
	"last_seq" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "index_claims" ADD CONSTRAINT "index_claims_bank_id_banks_id_fk" FOREIGN KEY ("bank_id") REFERENCES "public"."banks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "index_claims_bank" ON "index_claims" USING btree ("bank_id");