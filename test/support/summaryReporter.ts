import type { Reporter, TestModule } from "vitest/node";

/** Prints the plain closing line `N passed, N failed, N skipped` that CI reads, after vitest's own report. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failedHere++;
        else skipped++;
      }
      // a file that failed outside any test (an import or a hook) is a failure even if no test ran
      if (module.state() === "failed" && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    const skippedProjects = process.env.PRECEDENT_SKIPPED_PROJECTS;
    if (skippedProjects)
      console.log(`\nSKIPPED: the ${skippedProjects} half of the suite did not run (see above)`);
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
