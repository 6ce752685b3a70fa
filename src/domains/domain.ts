import { z } from "zod";
import { canonicalGame24 } from "./game24.js";
import { canonicalNumber } from "./number.js";

export const DOMAINS = ["number", "game24", "choice", "text"] as const;
export const domainSchema = z.enum(DOMAINS);
export type DomainName = z.infer<typeof domainSchema>;

/** What a domain knows about its answers. */
export interface Domain {
  name: DomainName;
  /** The comparable form of an answer, or undefined when the text is not an answer of this domain. */
  canonicalize(answer: string): string | undefined;
}

const domains: Record<DomainName, Domain> = {
  number: { name: "number", canonicalize: canonicalNumber },
  game24: { name: "game24", canonicalize: (a) => canonicalGame24(a) || undefined },
  choice: {
    name: "choice",
    canonicalize: (a) =>
      a
        .trim()
        .match(/^\(?([A-Ea-e])\)?(?:[.):\s]|$)/)?.[1]
        ?.toUpperCase(),
  },
  text: {
    name: "text",
    canonicalize: (a) => a.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim() || undefined,
  },
};

/** The domain by name. */
export function domainOf(name: DomainName): Domain {
  return domains[name];
}
