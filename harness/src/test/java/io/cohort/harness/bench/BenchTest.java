package io.cohort.harness.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.CohortClient;
import io.cohort.harness.Harness;
import io.cohort.server.testing.MiniCluster;
import io.cohort.statemachine.proto.CreateGroup;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's arithmetic, and one tiny `cohort bench commit` run (Cohort and no-op server processes). */
class BenchTest {
  @TempDir
  Path tmp;

  @Test
  void quantilesAreNearestRank() {
    long[] ms = {1_000_000, 2_000_000, 3_000_000, 4_000_000};
    assertEquals(2.0, Latencies.quantileMs(ms, 0.5));
    assertEquals(4.0, Latencies.quantileMs(ms, 0.99));
    assertTrue(Double.isNaN(Latencies.quantileMs(new long[0], 0.5)));
    Latencies.Spread s = Latencies.Spread.of(List.of(3.0, 1.0, 2.0, 10.0));
    assertEquals(1.0, s.min());
    assertEquals(2.5, s.median());
    assertEquals(10.0, s.max());
  }

  @Test
  void failoverGapIsTheLongestSilenceFromJustBeforeTheKill() {
    long s = 1_000_000_000L;
    long[] done = {1 * s, 2 * s, 10 * s, 10 * s + s / 2, 12 * s + s / 4, 12 * s + s / 2};
    // kill at 10.6 s: window from 9.6 s; replies at 10.0 and 10.5 s were on their way; the outage is 10.5 -> 12.25
    // (the silence 2 -> 10 s lies before the window)
    assertEquals(1750.0, FailoverBench.gapAround(done, 10 * s + 6 * s / 10), 1e-6);
  }

  @Test
  void onlyCohortAgainstTheNoopAndTheControlAreJudgedByIssue14sLines() {
    assertEquals(CommitReport.Labels.COHORT_VS_NOOP, CommitBench.sides(false, false, false, true).labels());
    assertEquals(CommitReport.Verdicts.ISSUE_LINES, CommitBench.sides(false, false, false, true).labels().verdicts());
    assertEquals(CommitReport.Verdicts.CONTROL, CommitBench.sides(true, false, false, true).labels().verdicts());
    assertEquals(List.of("plaintext", "TLS", "NONE"), named(CommitBench.sides(false, true, false, true).labels()));
    assertEquals(List.of("metrics-off", "metrics-on", "NONE"), named(CommitBench.sides(false, false, true, true).labels()));
  }

  private static List<String> named(CommitReport.Labels l) {
    return List.of(l.a(), l.b(), l.verdicts().name());
  }

  @Test
  void benchNeedsAWorkloadAndKnownOptions() {
    Harness h = new Harness(new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()), Map.of());
    assertEquals(2, h.run("bench"));
    assertEquals(2, h.run("bench", "commit", "--no-such-option"));
    assertEquals(2, h.run("bench", "nosuchworkload"));
  }

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

  /**
   * The control: both phases of a pair are the no-op, reported with the lines issue 14 sets for
   * Cohort/no-op, so the bench's own spread can be read beside Cohort's ratios.
   */
  @Test
  void benchCommitControlRunsTheNoopAgainstItself() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Harness(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of()).run("bench", "commit", "--compare-noop", "--pairs", "1", "--load-warmup-s", "0", "--warmup-min-s", "1",
        "--warmup-max-s", "1", "--window-s", "1", "--ages", "1", "--age-span-s", "2", "--measure-s", "1", "--in-flight", "4",
        "--partitions", "4",
        "--dir", tmp.resolve("work").toString(), "--server-java-opts", "-XX:+UseSerialGC -Xmx256m -XX:TieredStopAtLevel=1");
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, text + err.toString(StandardCharsets.UTF_8));
    List<String> starts = text.lines().filter(l -> l.startsWith("starting 3 ")).map(l -> l.split(" ")[2]).toList();
    assertEquals(List.of("no-op", "no-op"), starts, text);
    for (String phase : List.of("no-op A 1", "no-op B 1")) {
      assertTrue(text.contains(phase + ":    4 in flight:"), phase + "\n" + text);
    }
    assertTrue(text.contains("| age s | no-op A 1 | no-op B 1 |"), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("control levels: lowest no-op A/no-op B either way round over the pairs: 4 in flight "
        + "[0-9.]+ \\(Cohort's goal >= 0.9 in every pair\\): the no-op against itself would have (MET|NOT MET)")), text);
    assertTrue(text.lines().anyMatch(l -> l.startsWith("control ages: lowest no-op A/no-op B either way round over the pairs: age 1 s ")), text);
    // Either way round: a ratio and its inverse count alike, so the lowest is never over 1
    double lowest = Double.parseDouble(text.lines().filter(l -> l.startsWith("control levels: ")).findFirst().orElseThrow()
        .replaceAll(".* 4 in flight ([0-9.]+) .*", "$1"));
    assertTrue(lowest <= 1.0, text);
    assertTrue(text.lines().noneMatch(l -> l.startsWith("verdict ")), text);
    String last = text.strip().lines().reduce((a, b) -> b).orElse("");
    assertTrue(last.contains(" noopa_4_ops=") && last.contains(" noopb_4_ops=") && last.contains(" ratio_4="), last);
  }

  /** A load warm-up server may be stopped before its archive is dumped: the phases take any node's. */
  @Test
  void phasesMapTheClassArchiveOfWhicheverNodeWroteOne() throws Exception {
    Path cds = Files.createDirectories(tmp.resolve("cds"));
    assertTrue(!Files.exists(CommitBench.cdsArchive(tmp, "cohort")), "none yet");
    Files.write(cds.resolve("cohort-n1.jsa"), new byte[0]); // begun, never written
    Files.write(cds.resolve("cohort-n3.jsa"), new byte[] {1});
    Files.write(cds.resolve("noop-n2.jsa"), new byte[] {1});
    assertEquals(cds.resolve("cohort-n3.jsa"), CommitBench.cdsArchive(tmp, "cohort"));
    assertEquals(cds.resolve("noop-n2.jsa"), CommitBench.cdsArchive(tmp, "noop"));
  }

  @Test
  void benchCommitRefusesBadNumbersBeforeStartingAnything() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Harness h = new Harness(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of());
    assertEquals(2, h.run("bench", "commit", "--in-flight", "1,x", "--dir", tmp.resolve("never").toString()));
    assertEquals(2, h.run("bench", "commit", "--ages", "0", "--dir", tmp.resolve("never").toString()));
    assertEquals(2, h.run("bench", "commit", "--stable-windows", "0", "--dir", tmp.resolve("never").toString()));
    assertEquals(2, h.run("bench", "commit", "--pairs", "0", "--dir", tmp.resolve("never").toString()));
    assertEquals(2, h.run("bench", "commit", "--compare-noop", "--compare-tls", "--dir", tmp.resolve("never").toString()));
    assertEquals(2, h.run("bench", "commit", "--compare-noop", "--no-baseline", "--dir", tmp.resolve("never").toString()));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--in-flight takes comma-separated positive whole numbers"),
        err.toString(StandardCharsets.UTF_8));
    assertTrue(!Files.exists(tmp.resolve("never")), "nothing started, no work dir");
  }

  @Test
  void benchHeartbeatRefusesBadNumbersBeforeStartingAnything() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Harness h = new Harness(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of());
    assertEquals(2, h.run("bench", "heartbeat", "--overload-consumers", "-1", "--dir", tmp.resolve("never").toString()));
    assertEquals(2, h.run("bench", "heartbeat", "--capacity-factor", "1", "--dir", tmp.resolve("never").toString()));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--overload-consumers >= 0"), err.toString(StandardCharsets.UTF_8));
    assertTrue(!Files.exists(tmp.resolve("never")), "nothing started, no work dir");
  }

  /** On a cluster given with --peers, a bench removes what it created, also when it fails; a rerun starts clean. */
  @Test
  void benchOnAGivenClusterLeavesNothingBehind() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, tmp.resolve("cluster"));
        CohortClient client = CohortClient.connect(io.cohort.client.CohortClientConfig.builder(cluster.peers())
            .tls(cluster.adminTls()).build())) {
      cluster.leaderId();
      for (int run = 1; run <= 2; run++) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = new Harness(new PrintStream(out, true, StandardCharsets.UTF_8), System.err, Map.of()).run("bench",
            "rebalance", "--peers", cluster.peers(), "--runs", "1", "--warmup-runs", "0", "--intervals-ms", "1000",
            "--tls-cert", cluster.adminTls().cert().toString(), "--tls-key", cluster.adminTls().key().toString(),
            "--tls-ca", cluster.adminTls().ca().toString());
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, "run " + run + ": " + text);
        assertTrue(text.contains("removed the 1 group(s) and 1 topic(s) this run created"), text);
        assertEquals(List.of(), client.blocking().listTopics());
        assertEquals(List.of(), client.blocking().listGroups());
      }
      try (Scratch scratch = new Scratch(client, true, System.out)) {
        scratch.topicAndGroup("doomed", 2, CreateGroup.newBuilder());
        throw new IllegalStateException("the run fails");
      } catch (IllegalStateException expected) {
        assertEquals(List.of(), client.blocking().listTopics(), "removed on failure too");
      }
    }
  }
}
