package io.cohort.harness;

import io.cohort.harness.bench.CommitBench;
import io.cohort.harness.bench.ExpiryBench;
import io.cohort.harness.bench.FailoverBench;
import io.cohort.harness.bench.HeartbeatBench;
import io.cohort.harness.bench.RebalanceBench;
import io.cohort.harness.bench.SnapshotBench;
import io.cohort.harness.bench.SoakBench;
import io.cohort.harness.chaos.Chaos;
import io.cohort.harness.demo.Demo;
import io.cohort.tools.Cohort;
import io.cohort.tools.cli.CommandLine;
import java.io.PrintStream;
import java.util.Map;

/**
 * Exercising a cluster: {@code cohort bench|chaos|demo} ({@code scripts/cohort} sends these here).
 * Same conventions as the CLI: --help on every command, one-line errors, exit 0/1/2.
 */
public final class Harness {
  private static final String FOOTER = "These exercise a cluster; operating one is 'cohort --help'.\n"
      + "Without --peers, bench starts its own server processes; with it, bench measures that cluster and removes\n"
      + "the topics and groups it created.\n";

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  public Harness(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  public static void main(String[] args) {
    Cohort.quietLogging(false);
    int code = new Harness(System.out, System.err, System.getenv()).run(args);
    System.out.flush();
    System.exit(code);
  }

  public static CommandLine.Table commands() {
    return new CommandLine.Table()
        .describe("bench", "Benchmarks (DESIGN section 6): each prints a table and a last summary line")
        .add("bench", "commit", CommitBench::new)
        .add("bench", "failover", FailoverBench::new)
        .add("bench", "heartbeat", HeartbeatBench::new)
        .add("bench", "rebalance", RebalanceBench::new)
        .add("bench", "expiry", ExpiryBench::new)
        .add("bench", "snapshot", SnapshotBench::new)
        .add("bench", "soak", SoakBench::new)
        .add("chaos", Chaos::new)
        .add("demo", Demo::new);
  }

  public int run(String... args) {
    return new CommandLine("cohort", commands(), FOOTER).run(args, out, err, env);
  }
}
