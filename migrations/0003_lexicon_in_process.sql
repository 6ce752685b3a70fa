DROP INDEX "memory_index_tsv";--> statement-breakpoint
ALTER TABLE "run_recalls" ADD COLUMN "signals" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
-- runs recalled before: the signals they had (cosine; fused rank, now relevance); the rest unmeasured
UPDATE "run_recalls" SET "signals" = jsonb_build_object('literal', null, 'structure', null, 'values', null,
  'vector', "vector_score", 'reworded', null, 'relevance', "fused_score", 'match', null);--> statement-breakpoint
-- the cosine floor meant nothing to the new recall; its match floor takes its place (default 0.5)
UPDATE "banks" SET "settings" = "settings" - 'similarityFloor' WHERE "settings" ? 'similarityFloor';--> statement-breakpoint
ALTER TABLE "memory_index" DROP COLUMN "tsv";--> statement-breakpoint
ALTER TABLE "memory_index_banks" DROP COLUMN "lexemes";--> statement-breakpoint
ALTER TABLE "run_recalls" DROP COLUMN "vector_score";--> statement-breakpoint
ALTER TABLE "run_recalls" DROP COLUMN "text_score";--> statement-breakpoint
ALTER TABLE "run_recalls" DROP COLUMN "fused_score";
