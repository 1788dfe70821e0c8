package io.cohort.harness.demo;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Tells the demo as it goes, and keeps the verdict: one line per check. */
final class Narrator {
  private final PrintStream out;
  private final List<String> verdict = new ArrayList<>();
  private boolean allOk = true;

  Narrator(PrintStream out) {
    this.out = out;
  }

  void section(String title) {
    out.println();
    out.println("== " + title);
  }

  void say(String line) {
    out.println("   " + line);
    out.flush();
  }

  void check(boolean ok, String what) {
    verdict.add((ok ? "[ok]   " : "[FAIL] ") + what);
    allOk &= ok;
    say(ok ? "check passed" : "CHECK FAILED: " + what);
  }

  void fail(String what) {
    verdict.add("[FAIL] " + what);
    allOk = false;
  }

  boolean allOk() {
    return allOk;
  }

  void printVerdict(long seconds) {
    out.println();
    out.println("Verdict (" + seconds + " s):");
    verdict.forEach(v -> out.println("  " + v));
    out.println(allOk ? "All checks passed." : "SOME CHECKS FAILED.");
  }
}
