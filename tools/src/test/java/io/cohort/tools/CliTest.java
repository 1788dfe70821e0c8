package io.cohort.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.testing.MiniCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every `cohort` subcommand against a real three-node cluster in this JVM, through the injected
 * streams: the happy path, and what bad input prints and returns.
 */
class CliTest {
  @TempDir
  static Path tmp;
  static MiniCluster cluster;
  static Map<String, String> env;

  record Run(int code, String out, String err) {
    Map<String, Object> json() {
      return MiniJson.object(out);
    }
  }

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = MiniCluster.start(3, tmp.resolve("cluster"));
    cluster.leaderId();
    env = Map.of("COHORT_PEERS", cluster.peers());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static Run cohort(String... args) {
    return cohortWith(env, args);
  }

  static Run cohortWith(Map<String, String> environment, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Cohort(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), environment).run(args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Run ok(String... args) {
    Run r = cohort(args);
    assertEquals(0, r.code(), "cohort " + String.join(" ", args) + " failed: " + r.err());
    return r;
  }

  static void failsWith(int code, String errContains, String... args) {
    Run r = cohort(args);
    assertEquals(code, r.code(), "cohort " + String.join(" ", args) + ": " + r.out() + r.err());
    assertTrue(r.err().contains(errContains), "stderr of cohort " + String.join(" ", args) + ": " + r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r.err());
  }

  @Test
  void usageAndUnknownCommands() {
    Run help = cohort("--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("group describe"));
    assertEquals(2, cohort().code());
    failsWith(2, "cohort:", "frobnicate");
    failsWith(2, "needs one of", "topic");
  }

  @Test
  void clusterStatusShowsThreeLivePeersAndALeader() {
    Map<String, Object> status = ok("cluster", "status", "--json").json();
    List<?> peers = (List<?>) status.get("peers");
    assertEquals(3, peers.size());
    assertTrue(peers.stream().allMatch(p -> Boolean.TRUE.equals(((Map<?, ?>) p).get("reachable"))));
    assertTrue(peers.stream().anyMatch(p -> "LEADER".equals(((Map<?, ?>) p).get("role"))));
    assertTrue(ok("cluster", "status").out().contains("LEADER"));
    failsWith(2, "peer", "cluster", "status", "--peers", "not-a-peer-list");
  }

  @Test
  void topics() {
    assertTrue(ok("topic", "create", "orders", "--partitions", "4").out().contains("4 partitions"));
    assertTrue(ok("topic", "list").out().contains("orders"));
    Map<String, Object> t = ok("topic", "describe", "orders", "--json").json();
    assertEquals(4, ((List<?>) t.get("partitions")).size());
    assertTrue(ok("topic", "split", "orders", "1", "--end-cursor", "100").out().contains("into 4 and 5"));
    assertTrue(ok("topic", "merge", "orders", "2", "3").out().contains("into 6"));
    ok("topic", "weight", "orders", "0", "2.5");
    Map<String, Object> after = ok("topic", "describe", "orders", "--json").json();
    Map<?, ?> p1 = (Map<?, ?>) ((List<?>) after.get("partitions")).get(1);
    assertEquals("SEALED", p1.get("state"));
    assertEquals("100", p1.get("endCursor"));
    assertEquals(List.of(4L, 5L), p1.get("children"));
    assertEquals(2.5, ((Map<?, ?>) ((List<?>) after.get("partitions")).get(0)).get("weight"));
    assertTrue(ok("topic", "list", "--json").out().contains("\"orders\""));
    // A stale read may lag the leader, but catches up.
    await().atMost(Duration.ofSeconds(60)).until(() -> ok("topic", "describe", "orders", "--json", "--stale")
        .out().contains("\"weight\":2.5"));

    failsWith(2, "partition must be a whole number", "topic", "split", "orders", "x");
    failsWith(2, "--partitions", "topic", "create", "bad", "--partitions", "many");
    failsWith(1, "NOT_FOUND", "topic", "describe", "nope");
    failsWith(1, "ALREADY_EXISTS", "topic", "create", "orders", "--partitions", "1");
    failsWith(1, "FAILED_PRECONDITION", "topic", "split", "orders", "1");
    failsWith(2, "weight must be a number > 0", "topic", "weight", "orders", "0", "-1");
    failsWith(2, "key must be", "topic", "split", "orders", "0", "--key", "0xZZ");
  }

  @Test
  void groupsAndCheckpoints() {
    ok("topic", "create", "clicks", "--partitions", "2");
    ok("group", "create", "readers", "--topic", "clicks", "--order", "--session-timeout-ms", "6000",
        "--heartbeat-interval-ms", "500", "--start-from", "end");
    assertTrue(ok("group", "list").out().contains("readers"));
    Map<String, Object> list = ok("group", "list", "--json").json();
    assertTrue(list.get("groups").toString().contains("readers"));

    Map<String, Object> g = ok("group", "describe", "readers", "--json").json();
    assertEquals("readers", g.get("group"));
    assertEquals(true, g.get("order"));
    assertEquals(List.of(), g.get("members"));
    Map<?, ?> p0 = (Map<?, ?>) ((List<?>) g.get("partitions")).get(0);
    for (String key : List.of("topic", "partition", "state", "holder", "target", "status", "waitingFor", "checkpoint")) {
      assertTrue(p0.containsKey(key), "describe --json has " + key + ": " + p0);
    }
    assertEquals("UNASSIGNED", p0.get("status"));
    assertTrue(ok("group", "describe", "readers").out().contains("UNASSIGNED"));

    ok("checkpoint", "reset", "readers", "clicks", "1", "42");
    Map<String, Object> cps = ok("checkpoint", "list", "readers", "--json").json();
    Map<?, ?> cp = (Map<?, ?>) ((List<?>) cps.get("checkpoints")).get(0);
    assertEquals("42", cp.get("cursor"));
    assertEquals(1L, cp.get("partition"));
    assertTrue(ok("checkpoint", "list", "readers").out().contains("42"));

    failsWith(1, "NOT_FOUND", "group", "describe", "nobody");
    failsWith(1, "NOT_FOUND", "checkpoint", "list", "nobody");
    failsWith(1, "NOT_FOUND", "checkpoint", "reset", "nobody", "clicks", "0", "1");
    failsWith(2, "partition must be a whole number", "checkpoint", "reset", "readers", "clicks", "one", "1");
    failsWith(2, "--start-from must be begin or end", "group", "create", "x", "--topic", "clicks", "--start-from", "middle");
    failsWith(1, "INVALID_ARGUMENT", "group", "create", "x", "--topic", "clicks", "--session-timeout-ms", "5");
    failsWith(2, "--session-timeout-ms", "group", "create", "x", "--topic", "clicks", "--session-timeout-ms", "soon");
    ok("group", "delete", "readers");
    failsWith(1, "NOT_FOUND", "group", "delete", "readers");
  }

  @Test
  void logProduceAndConsume() throws Exception {
    Path logDir = tmp.resolve("log");
    ok("topic", "create", "events", "--partitions", "2");
    ok("group", "create", "printers", "--topic", "events");
    assertEquals("5", ok("log", "produce", "--dir", logDir.toString(), "events", "0", "--count", "5").out().strip());
    assertEquals("3", ok("log", "produce", "--dir", logDir.toString(), "events", "1", "--count", "3").out().strip());
    failsWith(2, "--count", "log", "produce", "--dir", logDir.toString(), "events", "0", "--count", "lots");

    Run run = CompletableFuture.supplyAsync(() -> cohort("consume", "printers", "--consumer", "c1",
        "--log-dir", logDir.toString(), "--json", "--commit-every-ms", "200", "--exit-when-idle-ms", "3000"))
        .get(120, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(0, run.code(), run.err());
    List<Map<String, Object>> events = new ArrayList<>();
    run.out().lines().forEach(l -> events.add(MiniJson.object(l)));
    assertEquals(2, events.stream().filter(e -> "assigned".equals(e.get("event"))).count(), run.out());
    assertEquals(8, events.stream().filter(e -> "record".equals(e.get("event"))).count(), run.out());
    assertTrue(events.stream().anyMatch(e -> "committed".equals(e.get("event")) && "5".equals(e.get("cursor"))
        && Long.valueOf(0).equals(e.get("partition"))), run.out());
    for (Map<String, Object> e : events) {
      assertTrue(e.containsKey("timeMs") && e.containsKey("topic") && e.containsKey("partition"), e.toString());
    }
    Map<String, Object> cps = ok("checkpoint", "list", "printers", "--json").json();
    assertTrue(cps.get("checkpoints").toString().contains("cursor=3"), cps.toString());

    failsWith(1, "NOT_FOUND", "consume", "no-such-group", "--consumer", "c1", "--log-dir", logDir.toString(),
        "--exit-when-idle-ms", "2000");
  }

  @Test
  void snapshots() throws Exception {
    ok("topic", "create", "snap", "--partitions", "3");
    ok("group", "create", "snappers", "--topic", "snap");
    ok("checkpoint", "reset", "snappers", "snap", "2", "77");
    assertTrue(ok("snapshot", "take").out().contains("snapshot taken at index"));
    Path storage = cluster.storageDir(cluster.leaderId());
    await().atMost(Duration.ofSeconds(60)).until(() -> !SnapshotFile.list(storage).isEmpty());
    Map<String, Object> listed = ok("snapshot", "list", "--storage", storage.toString(), "--json").json();
    List<?> snaps = (List<?>) listed.get("snapshots");
    String file = (String) ((Map<?, ?>) snaps.get(snaps.size() - 1)).get("file");
    assertTrue(ok("snapshot", "list", "--storage", storage.toString()).out().contains("snapshot."));

    Map<String, Object> summary = ok("snapshot", "inspect", file, "--json").json();
    assertEquals(true, summary.get("verified"));
    assertTrue(summary.get("groups").toString().contains("snappers"));
    Map<String, Object> one = ok("snapshot", "inspect", file, "--group", "snappers", "--json").json();
    assertTrue(one.get("partitions").toString().contains("cursor=77"), one.toString());
    assertTrue(ok("snapshot", "inspect", file, "--group", "snappers").out().contains("77"));
    failsWith(1, "no group 'ghost'", "snapshot", "inspect", file, "--group", "ghost");

    Path corrupt = tmp.resolve("snapshot.1_99");
    Files.write(corrupt, "this is not a MapDB file at all".repeat(100).getBytes(StandardCharsets.UTF_8));
    failsWith(1, "snapshot.1_99", "snapshot", "inspect", corrupt.toString());
    Path flipped = tmp.resolve("snapshot.1_100");
    byte[] bytes = Files.readAllBytes(Path.of(file));
    bytes[bytes.length / 2] ^= 0x5a;
    bytes[bytes.length / 2 + 1] ^= 0x5a;
    Files.write(flipped, bytes);
    Run r = cohort("snapshot", "inspect", flipped.toString());
    assertEquals(1, r.code(), "a flipped byte is refused: " + r.out() + r.err());
    failsWith(1, "does not exist", "snapshot", "inspect", tmp.resolve("missing").toString());
    failsWith(1, "not a directory", "snapshot", "list", "--storage", tmp.resolve("missing").toString());
  }

  @Test
  void badPeersAreBadUsage() {
    Run r = cohortWith(Map.of("COHORT_PEERS", "n1=nowhere"), "group", "list");
    assertEquals(2, r.code(), r.err());
    assertFalse(r.err().isBlank());
    failsWith(2, "peer", "topic", "list", "--peers", "n1=127.0.0.1:notaport");
  }

  @Test
  void serverRefusesBadInputWithOneLine() throws Exception {
    failsWith(2, "peer", "server", "--id", "n1", "--storage", tmp.resolve("s1").toString(), "--peers", "junk");
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    Run r = cohort("server", "--id", "n1", "--storage", file.toString(), "--peers", "n1=127.0.0.1:1");
    assertTrue(r.code() != 0, r.out() + r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  /** `cohort server` as an operator runs it: three processes, a leader, and SIGTERM stops each cleanly. */
  @Test
  void serverProcessesFormAClusterAndStopOnSigterm() throws Exception {
    int[] ports = {freePort(), freePort(), freePort()};
    String peers = "n1=127.0.0.1:" + ports[0] + ",n2=127.0.0.1:" + ports[1] + ",n3=127.0.0.1:" + ports[2];
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    List<Process> servers = new ArrayList<>();
    try {
      for (String id : List.of("n1", "n2", "n3")) {
        servers.add(new ProcessBuilder(javaBin, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
            Cohort.class.getName(), "server", "--id", id, "--storage", tmp.resolve("proc-" + id).toString(),
            "--peers", peers).redirectErrorStream(true)
            .redirectOutput(tmp.resolve("proc-" + id + ".log").toFile()).start());
      }
      Map<String, String> procEnv = Map.of("COHORT_PEERS", peers);
      await().atMost(Duration.ofSeconds(120)).until(() -> cohortWith(procEnv, "cluster", "status").code() == 0);
      assertTrue(cohortWith(procEnv, "cluster", "status").out().contains("LEADER"));
      assertEquals(0, cohortWith(procEnv, "topic", "create", "t", "--partitions", "1").code());
    } finally {
      for (Process p : servers) {
        p.destroy(); // SIGTERM: the shutdown hook closes the node
      }
      for (Process p : servers) {
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    for (Process p : servers) {
      assertFalse(p.isAlive());
      assertEquals(143, p.exitValue(), "ended by SIGTERM through the shutdown hook, not killed");
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void benchNeedsAWorkloadAndKnownOptions() {
    assertEquals(2, cohort("bench").code());
    assertEquals(2, cohort("bench", "commit", "--no-such-option").code());
    assertEquals(2, cohort("bench", "nosuchworkload").code());
  }
}
