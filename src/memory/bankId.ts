import { z } from "zod";

/** A bank's id: what URLs, scopes and file names carry. */
export const bankIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    "must be 1-63 lowercase letters, digits or dashes, starting alphanumeric",
  );
