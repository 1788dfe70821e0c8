package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.client.GroupConsumer;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@code cohort bench expiry}: a real {@code cohort consume} process X and an in-JVM consumer Y
 * share 4 partitions; kill -9 of X; two times are taken: until the coordinator holds all four for Y
 * (a linearizable describe shows Y as the holder, status HELD: the leader's tick expired X) and until
 * Y's reader has all four (Y learned it on its next heartbeat).
 */
@Parameters(commandDescription = "Benchmark: kill -9 a consumer process; time until its partitions are held by another")
public final class ExpiryBench implements CliCommand {
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--runs", description = "kills")
  int runs = 7;

  @Parameter(names = "--session-timeout-ms", description = "the group's session timeout")
  long sessionTimeoutMs = 5000;

  @Parameter(names = "--heartbeat-interval-ms", description = "the group's heartbeat interval")
  long heartbeatIntervalMs = 1000;

  @Parameter(names = "--consumer-java-opts", description = "JVM options of the killed consumer process")
  String consumerJavaOpts = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m";

  @Parameter(names = "--seed", description = "seed of the kill phases")
  long seed = 1;

  private Scratch scratch;

  @Override
  public int run(CliContext ctx) throws Exception {
    PrintStream out = ctx.out;
    Path work = options.workDir("cohort-bench-expiry-", out);
    Random random = new Random(seed);
    List<Double> state = new ArrayList<>();
    List<Double> client = new ArrayList<>();
    ServerProcesses servers = options.peers == null ? options.startServers(ServerProcesses.Kind.COHORT, work, out) : null;
    String peers = servers != null ? servers.peers() : options.peers;
    try (CohortClient c = options.client(servers); Scratch made = new Scratch(c, servers == null, out)) {
      scratch = made;
      out.printf("expiry: session timeout %d ms, heartbeat %d ms, %d kills of a `cohort consume` process%n",
          sessionTimeoutMs, heartbeatIntervalMs, runs);
      for (int run = 0; run <= runs; run++) { // run 0 warms up
        double[] t = run(c, peers, work, run, random.nextInt((int) heartbeatIntervalMs));
        if (run == 0) {
          out.printf("warm-up run: held %.0f ms, read by Y %.0f ms%n", t[0], t[1]);
          continue;
        }
        state.add(t[0]);
        client.add(t[1]);
        out.printf("run %d: held by Y after %.0f ms (session + %.0f ms); Y reading all after %.0f ms%n", run, t[0],
            t[0] - sessionTimeoutMs, t[1]);
        out.flush();
      }
    } finally {
      if (servers != null) {
        servers.close();
      }
      options.cleanUp(work, out);
    }
    Latencies.Spread s = Latencies.Spread.of(state);
    Latencies.Spread r = Latencies.Spread.of(client);
    out.printf("held by another (coordinator): %s ms; target <= session timeout + 500 = %d ms: %s%n", s,
        sessionTimeoutMs + 500, s.max() <= sessionTimeoutMs + 500 ? "met by every run" : "NOT met by every run");
    out.printf("read by another (its next heartbeat): %s ms%n", r);
    out.printf("bench expiry runs=%d session_ms=%d held_min_ms=%.0f held_median_ms=%.0f held_max_ms=%.0f read_min_ms=%.0f read_median_ms=%.0f read_max_ms=%.0f%n",
        state.size(), sessionTimeoutMs, s.min(), s.median(), s.max(), r.min(), r.median(), r.max());
    return 0;
  }

  /** Returns {ms until Y holds all 4 in the coordinator, ms until Y's reader has all 4}. */
  private double[] run(CohortClient c, String peers, Path work, int run, long phaseMs) throws Exception {
    String name = scratch.topicAndGroup("expiry-" + run, 4, CreateGroup.newBuilder().setSessionTimeoutMs(sessionTimeoutMs)
        .setHeartbeatIntervalMs(heartbeatIntervalMs).setStartFrom(StartFrom.BEGIN));
    Path logDir = Files.createDirectories(work.resolve("log"));
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    for (String o : consumerJavaOpts.trim().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.cohort.tools.Cohort", "consume", name,
        "--consumer", "X", "--log-dir", logDir.toString(), "--peers", peers));
    cmd.addAll(ServerProcesses.transportArgs(c.config()));
    Process x = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(work.resolve("consumer-" + run + ".log").toFile()).start();
    Members m = new Members();
    GroupConsumer<Object> y = null;
    Duration wait = Duration.ofSeconds(90);
    try {
      require(Members.await(() -> Members.held(c.blocking().describeGroup(name)).equals(Map.of("X", 4)), wait, 50),
          "X holds 4");
      y = m.start(c, name, "Y");
      require(Members.await(() -> m.count("Y") == 2 && !Members.anyReleasing(c.blocking().describeGroup(name))
          && Members.held(c.blocking().describeGroup(name)).equals(Map.of("X", 2, "Y", 2)), wait, 20), "X and Y hold 2 each");
      ServerProcesses.sleepMs(phaseMs);
      long t0 = System.nanoTime();
      x.destroyForcibly();
      x.waitFor(30, TimeUnit.SECONDS);
      double[] t = {Double.NaN, Double.NaN};
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while ((Double.isNaN(t[0]) || Double.isNaN(t[1])) && System.nanoTime() < deadline) {
        if (Double.isNaN(t[0])) {
          try {
            if (Members.held(c.blocking().describeGroup(name)).equals(Map.of("Y", 4))) {
              t[0] = (System.nanoTime() - t0) / 1e6;
            }
          } catch (RuntimeException e) {
            // ask again
          }
        }
        if (Double.isNaN(t[1]) && m.count("Y") == 4) {
          t[1] = (m.lastAssignedNanos() - t0) / 1e6;
        }
        ServerProcesses.sleepMs(20);
      }
      require(!Double.isNaN(t[0]) && !Double.isNaN(t[1]), "Y holds all 4");
      return t;
    } finally {
      x.destroyForcibly();
      if (y != null) {
        y.close();
      }
    }
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("timed out waiting until " + what);
    }
  }
}
