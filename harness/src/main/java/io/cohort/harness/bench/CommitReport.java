package io.cohort.harness.bench;

import io.cohort.harness.bench.CommitPhase.Level;
import io.cohort.harness.bench.CommitPhase.Result;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.DoubleUnaryOperator;

/**
 * The tables and the summary line of {@code cohort bench commit}: per pair, each level for Cohort
 * and the no-op and their ratio; both warm-up curves by server age; the throughput at the chosen
 * ages.
 */
final class CommitReport {
  /** Pair {@code index} (from 1): a Cohort phase and the no-op phase after it (null without a baseline). */
  record Pair(int index, Result cohort, Result noop) {}

  /** Which of issue 14's lines the pairs are judged by, if any. */
  enum Verdicts {
    /** Other comparisons (TLS, metrics) print their ratios only. */
    NONE,
    /** Cohort against the no-op: issue 14's lines. */
    ISSUE_LINES,
    /** The no-op against itself: the same lines, each ratio counted either way round. */
    CONTROL
  }

  /** What the two phases of a pair are: labels for the tables, keys for the summary line, the lines they are judged by. */
  record Labels(String a, String b, String aKey, String bKey, Verdicts verdicts) {
    static final Labels COHORT_VS_NOOP = new Labels("Cohort", "no-op", "cohort", "noop", Verdicts.ISSUE_LINES);
    /** The control: the no-op against itself, so Cohort's ratios can be read against the bench's own spread. */
    static final Labels NOOP_VS_NOOP = new Labels("no-op A", "no-op B", "noopa", "noopb", Verdicts.CONTROL);
  }

  private final PrintStream out;
  private final int[] levels;
  private final double[] ages;
  private final double windowS;
  /** The span of server age each age's throughput is averaged over ({@link WarmUpCurve#opsAround}). */
  private final double ageSpanS;
  private final String aLabel;
  private final String bLabel;
  private final String aKey;
  private final String bKey;
  private final Verdicts verdicts;

  CommitReport(PrintStream out, int[] levels, double[] ages, double windowS) {
    this(out, levels, ages, windowS, windowS, Labels.COHORT_VS_NOOP);
  }

  CommitReport(PrintStream out, int[] levels, double[] ages, double windowS, double ageSpanS, Labels labels) {
    this.aLabel = labels.a();
    this.bLabel = labels.b();
    this.aKey = labels.aKey();
    this.bKey = labels.bKey();
    this.verdicts = labels.verdicts();
    this.out = out;
    this.levels = levels;
    this.ages = ages;
    this.windowS = windowS;
    this.ageSpanS = ageSpanS;
  }

  void print(List<Pair> pairs) {
    out.println();
    out.printf("| pair | in flight | %1$s ops/s | p50 ms | p99 ms | %2$s ops/s | p50 ms | p99 ms | %1$s/%2$s | CPU %1$s (servers+load) | CPU %2$s |%n",
        aLabel, bLabel);
    out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for (Pair p : pairs) {
      for (int n : levels) {
        Level c = p.cohort().levels().get(n);
        Level b = p.noop() == null ? null : p.noop().levels().get(n);
        out.printf("| %d | %d | %,.0f | %.1f | %.1f | %s | %s | %s | %s | %.2f+%.2f | %s |%n", p.index(), n, c.opsPerS(),
            c.p50Ms(), c.p99Ms(), b == null ? "-" : String.format("%,.0f", b.opsPerS()),
            b == null ? "-" : String.format("%.1f", b.p50Ms()), b == null ? "-" : String.format("%.1f", b.p99Ms()),
            b == null ? "-" : String.format("%.2fx", c.opsPerS() / b.opsPerS()), c.serverCores(), c.loadCores(),
            b == null ? "-" : String.format("%.2f+%.2f", b.serverCores(), b.loadCores()));
      }
    }
    printCurves(pairs);
    printAges(pairs);
    if (verdicts != Verdicts.NONE && pairs.stream().allMatch(p -> p.noop() != null)) {
      printVerdicts(pairs, verdicts == Verdicts.CONTROL);
    }
  }

  /** Issue 14's lines for Cohort against the no-op: every pair, at each level and at each age. */
  static final double LEVEL_GOAL = 0.9;
  static final double AGE_GOAL = 0.8;

  private void printVerdicts(List<Pair> pairs, boolean control) {
    // Which of two phases of one kind is called A is arbitrary: the control counts each ratio both ways round
    DoubleUnaryOperator counted = control ? r -> Math.min(r, 1 / r) : r -> r;
    Map<String, Double> lowestAtLevel = new LinkedHashMap<>();
    for (int n : levels) {
      lowestAtLevel.put(n + " in flight", pairs.stream()
          .mapToDouble(p -> p.cohort().levels().get(n).opsPerS() / p.noop().levels().get(n).opsPerS())
          .map(counted).min().orElse(Double.NaN));
    }
    Map<String, Double> lowestAtAge = new LinkedHashMap<>();
    for (double age : ages) {
      lowestAtAge.put(String.format("age %.0f s", age), pairs.stream()
          .mapToDouble(p -> p.cohort().curve().opsAround(age, ageSpanS, windowS) / p.noop().curve().opsAround(age, ageSpanS, windowS))
          .map(counted).min().orElse(Double.NaN));
    }
    out.println();
    if (control) {
      // The same lines applied to two phases of one kind: what any state machine would score on this machine
      out.println(control("levels", lowestAtLevel, LEVEL_GOAL));
      out.println(control("ages", lowestAtAge, AGE_GOAL));
    } else {
      out.println(verdict("levels", lowestAtLevel, LEVEL_GOAL));
      out.println(verdict("ages", lowestAtAge, AGE_GOAL));
    }
  }

  /**
   * "verdict levels: lowest Cohort/no-op over the pairs: 1 in flight 0.971, ... (goal >= 0.9 in
   * every pair): MET". Three decimals, so that a ratio just under the goal does not print as it.
   */
  static String verdict(String what, Map<String, Double> lowest, double goal) {
    return lowestOverPairs("verdict " + what + ": lowest Cohort/no-op over the pairs:", lowest, "goal", goal, "");
  }

  /**
   * "control levels: lowest no-op A/no-op B either way round over the pairs: 1 in flight 0.971, ...
   * (Cohort's goal >= 0.9 in every pair): the no-op against itself would have MET" — how much of
   * the goal's margin the machine's own spread takes.
   */
  static String control(String what, Map<String, Double> lowest, double goal) {
    return lowestOverPairs("control " + what + ": lowest no-op A/no-op B either way round over the pairs:", lowest,
        "Cohort's goal", goal, "the no-op against itself would have ");
  }

  private static String lowestOverPairs(String head, Map<String, Double> lowest, String goalName, double goal,
      String outcomePrefix) {
    StringBuilder b = new StringBuilder(head);
    boolean met = !lowest.isEmpty();
    String sep = " ";
    for (Map.Entry<String, Double> e : lowest.entrySet()) {
      b.append(sep).append(e.getKey()).append(' ').append(String.format("%.3f", e.getValue()));
      met &= e.getValue() >= goal; // NaN (not measured) is not met
      sep = ", ";
    }
    return b.append(String.format(" (%s >= %.1f in every pair): %s%s", goalName, goal, outcomePrefix,
        met ? "MET" : "NOT MET")).toString();
  }

  /** Both warm-up curves side by side: ops/s per window, by server age. */
  private void printCurves(List<Pair> pairs) {
    List<Result> phases = new ArrayList<>();
    StringBuilder head = new StringBuilder("| age s |");
    for (Pair p : pairs) {
      phases.add(p.cohort());
      head.append(" " + aLabel + " ").append(p.index()).append(" |");
      if (p.noop() != null) {
        phases.add(p.noop());
        head.append(" " + bLabel + " ").append(p.index()).append(" |");
      }
    }
    TreeSet<Double> rows = new TreeSet<>();
    phases.forEach(r -> r.curve().windows().forEach(w -> rows.add(w.endAgeS())));
    out.println();
    out.printf("Warm-up: ops/s in the %.0f s ending at each server age%n", windowS);
    out.println(head);
    out.println("|---:|" + "---:|".repeat(phases.size()));
    for (double age : rows) {
      StringBuilder row = new StringBuilder(String.format("| %.0f |", age));
      for (Result r : phases) {
        double v = r.curve().opsAtAge(age, windowS);
        row.append(Double.isNaN(v) ? " |" : String.format(" %,.0f |", v));
      }
      out.println(row);
    }
  }

  private void printAges(List<Pair> pairs) {
    out.println();
    for (Pair p : pairs) {
      StringBuilder line = new StringBuilder("pair " + p.index() + ": " + aLabel + " " + stable(p.cohort()));
      if (p.noop() != null) {
        line.append(", " + bLabel + " ").append(stable(p.noop()));
      }
      for (double age : ages) {
        double c = p.cohort().curve().opsAround(age, ageSpanS, windowS);
        line.append(String.format("; at age %.0f s (%.0f–%.0f s) " + aLabel + " %s", age, age - ageSpanS / 2,
            age + ageSpanS / 2, ops(c)));
        if (p.noop() != null) {
          double b = p.noop().curve().opsAround(age, ageSpanS, windowS);
          line.append(String.format(" vs " + bLabel + " %s (%s)", ops(b), ratio(c, b)));
        }
      }
      for (double age : ages) {
        line.append(String.format("; JIT CPU of the 3 servers by age %.0f s: " + aLabel + " %s", age,
            secs(p.cohort().jitSecondsAt(age))));
        if (p.noop() != null) {
          line.append(" vs " + bLabel + " ").append(secs(p.noop().jitSecondsAt(age)));
        }
      }
      for (double age : ages) {
        line.append(String.format("; CPU of the 3 servers (all threads) by age %.0f s: " + aLabel + " %s", age,
            secs(p.cohort().cpuSecondsAt(age))));
        if (p.noop() != null) {
          line.append(" vs " + bLabel + " ").append(secs(p.noop().cpuSecondsAt(age)));
        }
      }
      line.append(String.format("; the load JVM's JIT CPU during " + aLabel + " %s", secs(p.cohort().loadJit().c1()
          + p.cohort().loadJit().c2())));
      if (p.noop() != null) {
        line.append(", during " + bLabel + " ").append(secs(p.noop().loadJit().c1() + p.noop().loadJit().c2()));
      }
      out.println(line);
    }
  }

  /**
   * {@code bench commit key=value ...}: per pair ({@code p1_...}) and over all pairs: ops and
   * latencies averaged, {@code ratio_N} and {@code ratio_ageA} the lowest pair's, errors summed.
   */
  String summary(List<Pair> pairs, String head) {
    StringBuilder s = new StringBuilder("bench commit ").append(head);
    s.append(" pairs=").append(pairs.size());
    for (int n : levels) {
      double ops = 0;
      double p50 = 0;
      double p99 = 0;
      double noopOps = 0;
      double noopP99 = 0;
      double minRatio = Double.NaN;
      long errors = 0;
      for (Pair p : pairs) {
        Level c = p.cohort().levels().get(n);
        ops += c.opsPerS() / pairs.size();
        p50 += c.p50Ms() / pairs.size();
        p99 += c.p99Ms() / pairs.size();
        errors += c.errors();
        s.append(String.format(" p%d_" + aKey + "_%d_ops=%.0f", p.index(), n, c.opsPerS()));
        if (p.noop() != null) {
          Level b = p.noop().levels().get(n);
          noopOps += b.opsPerS() / pairs.size();
          noopP99 += b.p99Ms() / pairs.size();
          double r = c.opsPerS() / b.opsPerS();
          minRatio = Double.isNaN(minRatio) ? r : Math.min(minRatio, r);
          s.append(String.format(" p%d_" + bKey + "_%d_ops=%.0f p%d_ratio_%d=%.2f", p.index(), n, b.opsPerS(), p.index(), n, r));
        }
      }
      s.append(String.format(" " + aKey + "_%d_ops=%.0f " + aKey + "_%d_p50_ms=%.1f " + aKey + "_%d_p99_ms=%.1f", n, ops, n, p50, n, p99));
      if (!Double.isNaN(minRatio)) {
        s.append(String.format(" " + bKey + "_%d_ops=%.0f " + bKey + "_%d_p99_ms=%.1f ratio_%d=%.2f", n, noopOps, n, noopP99, n, minRatio));
      }
      s.append(" errors_").append(n).append('=').append(errors);
    }
    for (double age : ages) {
      double minRatio = Double.NaN;
      for (Pair p : pairs) {
        double c = p.cohort().curve().opsAround(age, ageSpanS, windowS);
        s.append(String.format(" p%d_" + aKey + "_age%.0f_ops=%.0f p%d_" + aKey + "_jit_s_age%.0f=%.1f", p.index(), age, c, p.index(),
            age, p.cohort().jitSecondsAt(age)));
        s.append(String.format(" p%d_" + aKey + "_cpu_s_age%.0f=%.1f", p.index(), age, p.cohort().cpuSecondsAt(age)));
        if (p.noop() != null) {
          double b = p.noop().curve().opsAround(age, ageSpanS, windowS);
          double r = c / b;
          s.append(String.format(" p%d_" + bKey + "_age%.0f_ops=%.0f p%d_ratio_age%.0f=%.2f", p.index(), age, b, p.index(), age, r));
          s.append(String.format(" p%d_" + bKey + "_jit_s_age%.0f=%.1f", p.index(), age, p.noop().jitSecondsAt(age)));
          s.append(String.format(" p%d_" + bKey + "_cpu_s_age%.0f=%.1f", p.index(), age, p.noop().cpuSecondsAt(age)));
          minRatio = Double.isNaN(minRatio) ? r : Math.min(minRatio, r);
        }
      }
      if (!Double.isNaN(minRatio)) {
        s.append(String.format(" ratio_age%.0f=%.2f", age, minRatio));
      }
    }
    for (Pair p : pairs) {
      s.append(String.format(" p%d_" + aKey + "_stable_s=%.0f", p.index(), p.cohort().stableAgeS()));
      if (p.noop() != null) {
        s.append(String.format(" p%d_" + bKey + "_stable_s=%.0f", p.index(), p.noop().stableAgeS()));
      }
    }
    return s.toString();
  }

  private static String secs(double s) {
    return Double.isNaN(s) ? "-" : String.format("%.1f s", s);
  }

  private static String stable(Result r) {
    return Double.isNaN(r.stableAgeS()) ? "not stable" : String.format("stable at age %.0f s", r.stableAgeS());
  }

  private static String ops(double v) {
    return Double.isNaN(v) ? "-" : String.format("%,.0f", v);
  }

  private static String ratio(double c, double b) {
    return Double.isNaN(c) || Double.isNaN(b) || b == 0 ? "-" : String.format("%.2fx", c / b);
  }
}
