CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"scopes" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "banks" (
	"id" text PRIMARY KEY NOT NULL,
	"domain" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "embedding_cache" (
	"model" text NOT NULL,
	"text_hash" text NOT NULL,
	"vector" real[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "embedding_cache_model_text_hash_pk" PRIMARY KEY("model","text_hash")
);
--> statement-breakpoint
CREATE TABLE "feedback" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"verdict" text NOT NULL,
	"answer" text,
	"key_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "index_state" (
	"name" text PRIMARY KEY NOT NULL,
	"embedder" text NOT NULL,
	"dimensions" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "memories" (
	"id" text PRIMARY KEY NOT NULL,
	"bank_id" text NOT NULL,
	"problem" text NOT NULL,
	"reasoning" text DEFAULT '' NOT NULL,
	"answer" text NOT NULL,
	"answer_canonical" text NOT NULL,
	"problem_hash" text NOT NULL,
	"source" text NOT NULL,
	"run_id" text,
	"model" text,
	"verification" text NOT NULL,
	"verification_detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"trust" integer NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"recalled_count" integer DEFAULT 0 NOT NULL,
	"helped_count" integer DEFAULT 0 NOT NULL,
	"hurt_count" integer DEFAULT 0 NOT NULL,
	"support_count" integer DEFAULT 1 NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"index_version" integer DEFAULT 0 NOT NULL,
	"seq" bigserial NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_recalls" (
	"run_id" text NOT NULL,
	"memory_id" text NOT NULL,
	"rank" integer NOT NULL,
	"vector_score" real NOT NULL,
	"text_score" real NOT NULL,
	"fused_score" real NOT NULL,
	"utility" real NOT NULL,
	"final_score" real NOT NULL,
	CONSTRAINT "run_recalls_run_id_rank_pk" PRIMARY KEY("run_id","rank")
);
--> statement-breakpoint
CREATE TABLE "run_samples" (
	"run_id" text NOT NULL,
	"index" integer NOT NULL,
	"text" text NOT NULL,
	"answer" text,
	"answer_canonical" text,
	"confidence" real,
	"tokens" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "run_samples_run_id_index_pk" PRIMARY KEY("run_id","index")
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" text PRIMARY KEY NOT NULL,
	"bank_id" text NOT NULL,
	"query" text NOT NULL,
	"query_hash" text NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"prompt" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"answer" text,
	"answer_canonical" text,
	"confidence" real,
	"votes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"verification" text DEFAULT 'none' NOT NULL,
	"verification_detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text NOT NULL,
	"error" text,
	"written_memory_id" text,
	"timings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"usage" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model" text,
	"seq" bigserial NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memories" ADD CONSTRAINT "memories_bank_id_banks_id_fk" FOREIGN KEY ("bank_id") REFERENCES "public"."banks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_recalls" ADD CONSTRAINT "run_recalls_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_recalls" ADD CONSTRAINT "run_recalls_memory_id_memories_id_fk" FOREIGN KEY ("memory_id") REFERENCES "public"."memories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_samples" ADD CONSTRAINT "run_samples_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_bank_id_banks_id_fk" FOREIGN KEY ("bank_id") REFERENCES "public"."banks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "feedback_run" ON "feedback" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "memories_bank_problem_hash" ON "memories" USING btree ("bank_id","problem_hash");--> statement-breakpoint
CREATE INDEX "memories_bank_status" ON "memories" USING btree ("bank_id","status");--> statement-breakpoint
CREATE INDEX "memories_bank_seq" ON "memories" USING btree ("bank_id","seq");--> statement-breakpoint
CREATE INDEX "memories_unindexed" ON "memories" USING btree ("bank_id") WHERE "memories"."index_version" < "memories"."version";--> statement-breakpoint
CREATE INDEX "run_recalls_memory" ON "run_recalls" USING btree ("memory_id");--> statement-breakpoint
CREATE INDEX "runs_bank_seq" ON "runs" USING btree ("bank_id","seq");