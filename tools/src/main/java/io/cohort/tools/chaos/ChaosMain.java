package io.cohort.tools.chaos;

import io.cohort.tools.bench.BenchOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code scripts/chaos.sh [--minutes N] [--seed S] [--dir DIR] [--keep-dir]}: runs {@link ChaosDriver}
 * and exits 0 when every check passed, 1 on any violation, 2 on bad usage.
 */
public final class ChaosMain {
  private ChaosMain() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis.client.impl.OrderedAsync", "off");
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.SEVERE);
    double minutes = 5;
    long seed = System.currentTimeMillis();
    Path dir = null;
    boolean keep = false;
    String javaOpts = System.getenv().getOrDefault("COHORT_SERVER_JAVA_OPTS", "-XX:+UseG1GC -Xms256m -Xmx1g");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--minutes" -> minutes = Double.parseDouble(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--keep-dir" -> keep = true;
        default -> {
          System.err.println("usage: scripts/chaos.sh [--minutes N] [--seed S] [--dir DIR] [--keep-dir]");
          System.exit(2);
        }
      }
    }
    if (minutes <= 0 || minutes > 120) {
      System.err.println("chaos: --minutes must be in (0, 120]");
      System.exit(2);
    }
    boolean temp = dir == null;
    dir = temp ? Files.createTempDirectory("cohort-chaos-") : Files.createDirectories(dir);
    List<String> opts = Arrays.stream(javaOpts.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    ChaosDriver.Report report;
    try {
      report = new ChaosDriver(new ChaosDriver.Settings(Duration.ofMillis((long) (minutes * 60_000)), dir, opts, seed,
          0.8, Duration.ofSeconds(25)), System.out).run();
    } finally {
      if (temp && !keep) {
        BenchOptions.deleteTree(dir);
      } else {
        System.out.println("work dir: " + dir);
      }
    }
    print(report, seed);
    System.exit(report.ok() ? 0 : 1);
  }

  static void print(ChaosDriver.Report report, long seed) {
    System.out.println();
    System.out.println("checked (seed " + seed + "):");
    for (Map.Entry<String, Long> e : report.counts().entrySet()) {
      System.out.printf("  %-58s %,d%n", e.getKey(), e.getValue());
    }
    if (report.ok()) {
      System.out.println("chaos: PASSED (no lost commit, never two holders, epochs increase, order kept, replicas identical)");
    } else {
      System.out.println("chaos: FAILED, " + report.violations().size() + " violation(s):");
      report.violations().forEach(v -> System.out.println("  " + v));
    }
  }
}
