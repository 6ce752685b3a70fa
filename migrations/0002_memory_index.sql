CREATE TABLE "memory_index" (
	"bank_id" text NOT NULL,
	"memory_id" text NOT NULL,
	"status" text NOT NULL,
	"trust" integer NOT NULL,
	"text" text NOT NULL,
	"vector" real[] NOT NULL,
	"tsv" "tsvector" GENERATED ALWAYS AS (to_tsvector('english'::regconfig, "text")) STORED NOT NULL,
	CONSTRAINT "memory_index_bank_id_memory_id_pk" PRIMARY KEY("bank_id","memory_id")
);
--> statement-breakpoint
CREATE TABLE "memory_index_banks" (
	"bank_id" text PRIMARY KEY NOT NULL,
	"generation" bigint DEFAULT 0 NOT NULL,
	"rows" integer DEFAULT 0 NOT NULL,
	"lexemes" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "memory_index_tsv" ON "memory_index" USING gin ("tsv") WITH (fastupdate=false);