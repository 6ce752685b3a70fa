import { type Analyzer, createAnalyzer } from "./analyze.js";
import { loadWordNet } from "./wordnet.js";

let loading: Promise<Analyzer> | undefined;

/**
 * The analyzer of the Node server and CLI: nouns generalized through WordNet. The dictionary is read on
 * the first call (about 0.7 s) and shared by every index of the process: it never changes.
 */
export function wordNetAnalyzer(): Promise<Analyzer> {
  loading ??= loadWordNet().then(createAnalyzer);
  return loading;
}
