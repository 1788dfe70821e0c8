package io.cohort.harness.bench;

import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.Command;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;

/**
 * One phase of {@code cohort bench commit}: a closed-loop load at the highest level warms one
 * cluster up, recording ops/s per window of server age until the curve is stable (or for a fixed
 * time), then each in-flight level is measured.
 */
final class CommitPhase {
  /** One measured level. */
  record Level(int inFlight, double opsPerS, double p50Ms, double p99Ms, long errors, double serverCores,
      double loadCores) {}

  /**
   * What one phase found.
   *
   * @param stableAgeS the server age at which the curve met the rule, or NaN
   * @param jitAtAge per age asked for: each server's compiler-thread CPU from its start to that age
   * @param loadJit the load JVM's compiler-thread CPU during the phase (how far the load itself was warm)
   * @param threadsAtAge per age asked for: the three servers' CPU from their start to that age, by
   *     thread class ({@link CompilerCpu#byThread(long)})
   */
  record Result(String name, WarmUpCurve curve, double stableAgeS, Map<Integer, Level> levels,
      Map<Double, Map<String, CompilerCpu.Seconds>> jitAtAge, CompilerCpu.Seconds loadJit,
      Map<Double, Map<String, Double>> threadsAtAge) {
    /** The three servers' CPU (all threads) from their start to {@code age}, NaN if not sampled. */
    double cpuSecondsAt(double age) {
      Map<String, Double> m = threadsAtAge.get(age);
      return m == null || m.isEmpty() ? Double.NaN : m.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** The servers' compiler CPU (C1 + C2, all three) from their start to {@code age}, NaN if not sampled. */
    double jitSecondsAt(double age) {
      Map<String, CompilerCpu.Seconds> m = jitAtAge.get(age);
      return m == null ? Double.NaN : m.values().stream().mapToDouble(s -> s.c1() + s.c2()).sum();
    }
  }

  /** How a phase warms up: for a fixed time, or until {@link WarmUpCurve.Rule} says stable. */
  record WarmUp(double windowS, Integer fixedS, WarmUpCurve.Rule rule) {
    String describe() {
      return fixedS != null ? fixedS + " s at the highest level (fixed)" : rule.toString();
    }
  }

  private final PrintStream out;
  private final WarmUp warmUp;
  private final int measureS;
  private final double[] ages;

  /** @param ages server ages at which each server's compiler CPU so far is kept */
  CommitPhase(PrintStream out, WarmUp warmUp, int measureS, double[] ages) {
    this.out = out;
    this.warmUp = warmUp;
    this.measureS = measureS;
    this.ages = ages.clone();
  }

  /**
   * Warms up and measures.
   *
   * @param servers the cluster's processes (their launch is age 0), or null for a cluster given with
   *     --peers (age 0 is then the start of the load and no CPU is reported)
   */
  Result run(String name, CohortClient client, LongFunction<Command> commands, boolean checkOk, int[] levels,
      ServerProcesses servers) throws InterruptedException {
    long self = ProcessHandle.current().pid();
    CompilerCpu.Seconds loadJit0 = CompilerCpu.of(self);
    int max = 1;
    for (int n : levels) {
      max = Math.max(max, n);
    }
    WarmUpCurve curve = new WarmUpCurve();
    Map<Double, Map<String, CompilerCpu.Seconds>> jitAtAge = new TreeMap<>();
    Map<Double, Map<String, Double>> threadsAtAge = new TreeMap<>();
    double stableAge = warm(name, client, commands, checkOk, max, servers, curve, jitAtAge, threadsAtAge);
    Map<Integer, Level> measured = new LinkedHashMap<>();
    for (int n : levels) {
      measured.put(n, measure(name, client, commands, checkOk, n, servers));
    }
    return new Result(name, curve, stableAge, measured, jitAtAge, CompilerCpu.of(self).minus(loadJit0),
        threadsAtAge);
  }

  private double warm(String name, CohortClient client, LongFunction<Command> commands, boolean checkOk, int max,
      ServerProcesses servers, WarmUpCurve curve, Map<Double, Map<String, CompilerCpu.Seconds>> jitAtAge,
      Map<Double, Map<String, Double>> threadsAtAge) throws InterruptedException {
    long origin = servers != null ? servers.startedNanos() : System.nanoTime();
    double windowS = warmUp.windowS();
    ClosedLoop loop = new ClosedLoop(client, commands, checkOk);
    long loadStart = System.nanoTime();
    loop.add(max);
    double startAge = (loadStart - origin) / 1e9;
    out.printf("%s: warm-up at %d in flight from %s %.1f s, %s%n", name, max,
        servers != null ? "server age" : "(no server age: --peers) load time", startAge, warmUp.describe());
    out.flush();
    double endAge = Math.ceil((startAge + windowS / 2) / windowS) * windowS; // no first window shorter than half
    long prevOk = 0;
    long prevT = loadStart;
    long prevCpu = servers != null ? servers.cpuNanos() : 0;
    CompilerCpu.Seconds prevJit = CompilerCpu.of(servers);
    double stableAge = Double.NaN;
    try {
      while (true) {
        ServerProcesses.sleepMs(Math.max(0, (origin + (long) (endAge * 1e9) - System.nanoTime()) / 1_000_000));
        long t = System.nanoTime();
        long ok = loop.ok();
        long cpu = servers != null ? servers.cpuNanos() : 0;
        double secs = (t - prevT) / 1e9;
        double cores = servers != null ? (cpu - prevCpu) / 1e9 / secs : Double.NaN;
        CompilerCpu.Seconds jit = CompilerCpu.of(servers);
        CompilerCpu.Seconds jitDelta = jit.minus(prevJit);
        double jitCores = (jitDelta.c1() + jitDelta.c2()) / secs;
        curve.add(new WarmUpCurve.Window(endAge, (ok - prevOk) / secs, cores, jitCores));
        out.printf("  age %4.0f s: %,7.0f ops/s%s%s%s%n", endAge, (ok - prevOk) / secs,
            servers != null ? String.format("  servers %.2f cores", cores) : "",
            Double.isNaN(jitCores) ? "" : String.format(" (JIT threads %.2f: C1 %.2f, C2 %.2f)", jitCores,
                jitDelta.c1() / secs, jitDelta.c2() / secs),
            loop.errors() > 0 ? "  (errors so far " + loop.errors() + ")" : "");
        out.flush();
        for (double age : ages) {
          if (servers != null && Math.abs(age - endAge) < windowS / 2) {
            Map<String, CompilerCpu.Seconds> perServer = new LinkedHashMap<>();
            for (String id : ServerProcesses.IDS) {
              perServer.put(id, CompilerCpu.of(servers.pid(id)));
            }
            jitAtAge.put(age, perServer);
            threadsAtAge.put(age, CompilerCpu.byThread(servers));
          }
        }
        prevOk = ok;
        prevT = t;
        prevCpu = cpu;
        prevJit = jit;
        boolean stable = curve.stable(warmUp.rule());
        if (stable && Double.isNaN(stableAge)) {
          stableAge = endAge;
        }
        if (warmUp.fixedS() != null ? (t - loadStart) / 1e9 >= warmUp.fixedS() - 1e-3
            : stable || endAge >= warmUp.rule().maxAgeS()) {
          break;
        }
        endAge += windowS;
      }
    } finally {
      loop.stop();
    }
    out.printf("%s: %s%n", name, Double.isNaN(stableAge) ? "not stable by the end of the warm-up (age " + fmt(endAge) + " s)"
        : "stable at age " + fmt(stableAge) + " s");
    return stableAge;
  }

  private Level measure(String name, CohortClient client, LongFunction<Command> commands, boolean checkOk, int n,
      ServerProcesses servers) throws InterruptedException {
    ClosedLoop loop = new ClosedLoop(client, commands, checkOk);
    loop.add(n);
    Level l;
    try {
      ServerProcesses.sleepMs(Math.min(2, measureS) * 1000L); // settle at this level
      Latencies lat = new Latencies();
      long errors0 = loop.errors();
      Cpu cpu = Cpu.start(servers);
      long t0 = System.nanoTime();
      loop.record(lat);
      ServerProcesses.sleepMs(measureS * 1000L);
      loop.record(null);
      double secs = (System.nanoTime() - t0) / 1e9;
      double serverCores = cpu.serverCores();
      double loadCores = cpu.loadCores();
      long[] sorted = lat.sorted();
      l = new Level(n, sorted.length / secs, Latencies.quantileMs(sorted, 0.5), Latencies.quantileMs(sorted, 0.99),
          loop.errors() - errors0, serverCores, loadCores);
    } finally {
      loop.stop();
    }
    out.printf("%s: %4d in flight: %,8.0f ops/s  p50 %6.1f ms  p99 %6.1f ms  errors %d  CPU servers %.2f + load %.2f cores%n",
        name, n, l.opsPerS(), l.p50Ms(), l.p99Ms(), l.errors(), l.serverCores(), l.loadCores());
    out.flush();
    return l;
  }

  static String fmt(double v) {
    return String.format("%.0f", v);
  }
}
