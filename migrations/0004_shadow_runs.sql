ALTER TABLE "runs" ADD COLUMN "shadow_of" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "shadow_kind" text;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_shadow_of_runs_id_fk" FOREIGN KEY ("shadow_of") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "runs_shadow_of" ON "runs" USING btree ("shadow_of");