package io.cohort.harness.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** When a warm-up counts as stable, and what the JIT log summary counts. */
class WarmUpCurveTest {
  private static WarmUpCurve curve(double... opsPerWindow) {
    WarmUpCurve c = new WarmUpCurve();
    for (int i = 0; i < opsPerWindow.length; i++) {
      c.add(new WarmUpCurve.Window(5.0 * (i + 1), opsPerWindow[i], 1.0, 0.5));
    }
    return c;
  }

  @Test
  void stableOnlyWhenTheLastWindowsAreWithinThePercentOfTheirMean() {
    WarmUpCurve.Rule rule = new WarmUpCurve.Rule(0, 300, 3, 10);
    assertFalse(curve(100, 1000, 2000).stable(rule), "still climbing");
    assertTrue(curve(100, 1000, 2000, 2100, 1950, 2050).stable(rule));
    assertFalse(curve(2000, 2100, 2600).stable(rule), "2600 is 16% above the mean 2233");
    assertFalse(curve(2000, 2100).stable(rule), "fewer windows than the rule needs");
    assertFalse(curve(0, 0, 0).stable(rule), "nothing completed is not stable");
  }

  @Test
  void aSteadyClimbIsNotStable() {
    // +3% per window: each pair of neighbours is close, but over six windows the spread is 15%
    WarmUpCurve.Rule rule = new WarmUpCurve.Rule(0, 300, 6, 5);
    assertFalse(curve(1000, 1030, 1061, 1093, 1126, 1159).stable(rule));
  }

  @Test
  void notStableBeforeTheMinimumAge() {
    WarmUpCurve.Rule rule = new WarmUpCurve.Rule(30, 300, 3, 10);
    assertFalse(curve(1000, 1000, 1000, 1000, 1000).stable(rule), "the last window ends at age 25 s");
    assertTrue(curve(1000, 1000, 1000, 1000, 1000, 1000).stable(rule), "age 30 s");
    assertThrows(IllegalArgumentException.class, () -> new WarmUpCurve.Rule(0, 300, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> new WarmUpCurve.Rule(200, 100, 3, 10));
  }

  @Test
  void throughputAtAnAgeIsTheWindowEndingThere() {
    WarmUpCurve c = curve(10, 20, 30);
    assertEquals(20, c.opsAtAge(10, 5));
    assertEquals(30, c.opsAtAge(15, 5));
    assertTrue(Double.isNaN(c.opsAtAge(60, 5)), "the warm-up ended before");
  }

  @Test
  void throughputAroundAnAgeIsTheMeanOfTheWindowsCentredOnIt_NaNUntilTheyAllExist() {
    WarmUpCurve c = curve(10, 20, 30, 40, 50, 60); // windows ending at 5, 10, ..., 30 s
    assertEquals((20 + 30 + 40 + 50) / 4.0, c.opsAround(15, 20, 5), 1e-9, "5-25 s: the windows ending at 10..25");
    assertEquals(c.opsAtAge(15, 5), c.opsAround(15, 5, 5), "a span of one window is that window");
    assertTrue(Double.isNaN(c.opsAround(25, 20, 5)), "15-35 s: the curve ends at 30 s");
  }

  @Test
  void jitLogCountsTiersAndThrownAwayC2CodeUpToAnAge() {
    List<String> log = List.of(
        "[0.069s]    1       3       java.lang.Object::<init> (1 bytes)",
        "[0.080s]    4     n 0       jdk.internal.misc.Unsafe::getReferenceVolatile (native)   ",
        "[0.087s]   13   !   3       java.util.zip.ZipFile$Source::checkAndAddEntry (262 bytes)",
        "[0.089s]   17 %     4       java.util.zip.ZipCoder$UTF8ZipCoder::checkedHash @ 14 (91 bytes)",
        "[0.097s]   18       4       java.util.zip.ZipFile$Source::zipCoderForPos (39 bytes)",
        "[0.098s]   16       3       java.util.zip.ZipFile$Source::zipCoderForPos (39 bytes)   made not entrant",
        "[36.091s] 4174       4       io.cohort.statemachine.proto.Command$BodyCase::forNumber (146 bytes)   made not entrant",
        "[70.5s] 7935       2       sun.security.provider.MD5::II (31 bytes)",
        "[70.6s] 7937   !   4       sun.security.provider.MD5::II (31 bytes)",
        "not a compilation line");
    assertEquals(new JitLog.Counts(1, 2, 2, 0), JitLog.count(log, 1));
    assertEquals(new JitLog.Counts(60, 2, 2, 1), JitLog.count(log, 60));
    assertEquals(new JitLog.Counts(120, 3, 3, 1), JitLog.count(log, 120));
  }

  @Test
  void compilerCpuOfThisJvmIsMeasuredOnLinuxAndUnknownElsewhere() {
    assertTrue(Double.isNaN(CompilerCpu.of(-1).c1()), "no such process");
    assertTrue(Double.isNaN(CompilerCpu.of((ServerProcesses) null).c2()));
    Assumptions.assumeTrue(CompilerCpu.available(), "needs Linux /proc");
    CompilerCpu.Seconds s = CompilerCpu.of(ProcessHandle.current().pid());
    assertTrue(s.c1() > 0 && s.c2() >= 0, "this JVM has compiled something by now: " + s);
  }

  @Test
  void threadCpuOfThisJvmAddsUpByThreadClass() {
    assertTrue(CompilerCpu.byThread(-1).isEmpty(), "no such process");
    assertTrue(CompilerCpu.byThread((ServerProcesses) null).isEmpty());
    Assumptions.assumeTrue(CompilerCpu.available(), "needs Linux /proc");
    Map<String, Double> byThread = CompilerCpu.byThread(ProcessHandle.current().pid());
    CompilerCpu.Seconds jit = CompilerCpu.of(ProcessHandle.current().pid());
    assertTrue(byThread.getOrDefault("C# CompilerThre", 0.0) >= jit.c1() + jit.c2() - 0.5,
        "both compiler threads are one class: " + byThread + " against " + jit);
    assertTrue(byThread.keySet().stream().noneMatch(k -> k.matches(".*[0-9].*")), "digits folded: " + byThread);
    assertTrue(byThread.getOrDefault("java", 0.0) > 0, "the main thread, named after the process: " + byThread);
  }

  @Test
  void theLargestThreadClassesComeFirstAndTheRestIsOther() {
    Map<String, Double> byThread = new java.util.TreeMap<>();
    for (int i = 0; i < CommitBench.THREAD_CLASSES_SHOWN + 2; i++) {
      byThread.put("t" + (char) ('a' + i), (double) i + 1);
    }
    String line = CommitBench.topThreads(byThread);
    assertTrue(line.startsWith("total 55.0 s: tj 10.0, ti 9.0,"), line);
    assertTrue(line.endsWith(", tc 3.0, other 3.0"), line);
  }

  @Test
  void compileSecondsComeFromTheCiTimeTotals() {
    List<String> stdout = List.of("Accumulated compiler times",
        "  C1 {speed: 88079.395 bytes/s; standard:  6.769 s, 594971 bytes, 6301 methods; osr:  0.103 s, 10357 bytes}",
        "  C2 {speed: 19770.838 bytes/s; standard: 57.146 s, 1125076 bytes, 1968 methods; osr:  0.575 s}");
    assertArrayEquals(new double[] {6.769, 57.146}, JitLog.compileSeconds(stdout));
    assertNull(JitLog.compileSeconds(List.of("no totals")));
  }
}
