package io.cohort.harness.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.harness.Harness;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One tiny `cohort bench commit` run with Cohort and no-op server processes (its own class, so the
 * longest of the bench's tests runs beside BenchTest's rather than after them).
 */
class CommitBenchAlternationTest {
  @TempDir
  Path tmp;

  /**
   * A tiny A B A B run: the load warm-up, then Cohort and no-op phases alternating, one cluster at a
   * time, each warmed until the (tiny) age cap; levels, curves, ages and JIT counts reported.
   */
  @Test
  void benchCommitAlternatesCohortAndNoopPhasesOneClusterAtATime() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Harness(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of()).run("bench", "commit", "--pairs", "2", "--load-warmup-s", "1", "--warmup-min-s", "1", "--warmup-max-s", "1",
        "--window-s", "1", "--ages", "1", "--age-span-s", "2", "--measure-s", "1", "--in-flight", "4", "--partitions", "4",
        "--jit-log",
        "--dir", tmp.resolve("work").toString(), "--server-java-opts", "-XX:+UseSerialGC -Xmx256m -XX:TieredStopAtLevel=1");
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, text + err.toString(StandardCharsets.UTF_8));
    List<String> starts = text.lines().filter(l -> l.startsWith("starting 3 ")).map(l -> l.split(" ")[2]).toList();
    assertEquals(List.of("Cohort", "no-op", "Cohort", "no-op", "Cohort", "no-op"), starts, text); // load warm-up, then A B A B
    for (String phase : List.of("Cohort 1", "no-op 1", "Cohort 2", "no-op 2")) {
      assertTrue(text.contains(phase + ": warm-up at 4 in flight from server age"), phase + "\n" + text);
      assertTrue(text.contains(phase + ":    4 in flight:"), phase + "\n" + text);
      assertTrue(text.contains(phase + ": JIT per server"), phase + "\n" + text);
    }
    assertTrue(text.contains("| age s | Cohort 1 | no-op 1 | Cohort 2 | no-op 2 |"), text);
    List<String> startLines = text.lines().filter(l -> l.startsWith("starting 3 ")).toList();
    assertTrue(startLines.subList(0, 2).stream().allMatch(l -> l.contains("-XX:ArchiveClassesAtExit=")), text);
    // From jars the phases map the archives; from the test's class directories CDS writes none
    boolean archived = !text.contains("class archive for Cohort: none written");
    assertTrue(startLines.subList(2, 6).stream().allMatch(l -> l.contains("-XX:SharedArchiveFile=") == archived), text);
    if (CompilerCpu.available()) {
      assertTrue(text.lines().anyMatch(l -> l.matches("  age +\\d+ s: .* \\(JIT threads [0-9.]+: C1 [0-9.]+, C2 [0-9.]+\\)")),
          text);
      // Age 1 s falls before the load starts in so short a run: the figure is "-" (unsampled) there
      assertTrue(text.lines().anyMatch(l -> l.startsWith("pair 1: ")
          && l.matches(".*; CPU of the 3 servers \\(all threads\\) by age 1 s: Cohort (-|[0-9.]+ s) vs no-op (-|[0-9.]+ s);.*")),
          text);
    }
    assertTrue(text.lines().anyMatch(l -> l.matches("  n[123]( \\(leader\\))?: by 1 s C1 [0-9,]+ C2 0 C2-not-entrant 0;.*")), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("verdict levels: lowest Cohort/no-op over the pairs: 4 in flight "
        + "[0-9.]+ \\(goal >= 0.9 in every pair\\): (MET|NOT MET)")), text);
    assertTrue(text.lines().anyMatch(l -> l.startsWith("verdict ages: lowest Cohort/no-op over the pairs: age 1 s ")), text);
    String last = text.strip().lines().reduce((a, b) -> b).orElse("");
    assertTrue(last.startsWith("bench commit ") && last.contains(" cohort_4_ops=") && last.contains(" ratio_4=")
        && last.contains(" p1_ratio_4=") && last.contains(" p2_ratio_4=") && last.contains(" pairs=2"), last);
    assertTrue(last.contains("errors_4=0"), last);
  }
}
