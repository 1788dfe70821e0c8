package io.cohort.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.testing.MiniCluster;
import io.cohort.tools.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every `cohort` subcommand against a real three-node cluster in this JVM, through the injected
 * streams: the happy path, and what bad input prints and returns.
 */
@ExtendWith(SharedCluster.Resolver.class)
class CliTest {
  @TempDir
  static Path tmp;
  static MiniCluster cluster;
  static Cli cli;

  @BeforeAll
  static void connect(MiniCluster shared) {
    cluster = shared;
    cli = new Cli(Cli.env(cluster));
  }

  @Test
  void usageAndUnknownCommands() {
    Cli.Run help = cli.run("--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("group describe"));
    assertTrue(help.out().contains("checkpoint reset"));
    assertEquals(2, cli.run().code());
    cli.failsWith(2, "unknown command 'frobnicate'", "frobnicate");
    cli.failsWith(2, "needs a subcommand", "topic");
    cli.failsWith(2, "unknown subcommand 'explode'", "topic", "explode");
  }

  @Test
  void versionIsTheProjectVersion() {
    Cli.Run r = cli.ok("--version");
    assertTrue(r.out().strip().matches("cohort \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), r.out());
  }

  @Test
  void clusterStatusShowsThreeLivePeersALeaderAndTheLimits() {
    JsonNode status = cli.ok("cluster", "status", "--json").json();
    assertEquals(1, status.get("version").asInt());
    assertEquals(3, status.get("peers").size());
    status.get("peers").forEach(p -> assertTrue(p.get("reachable").asBoolean(), status.toString()));
    assertTrue(status.get("leader").isTextual(), status.toString());
    assertTrue(status.get("limits").get("maxSlots").asLong() > 0, status.toString());
    assertTrue(status.get("usage").has("slots"), status.toString());
    String text = cli.ok("cluster", "status").out();
    assertTrue(text.contains("LEADER") && text.contains("max_slots"), text);
    cli.failsWith(2, "peer", "cluster", "status", "--peers", "not-a-peer-list");
  }

  @Test
  void R9_clusterLimitsShowsAndChangesTheReplicatedLimits() {
    JsonNode before = cli.ok("cluster", "limits", "--json").json();
    long slots = before.get("limits").get("maxSlots").asLong();
    JsonNode set = cli.ok("cluster", "limits", "--set", "max_slots=" + (slots + 1), "--json").json();
    assertEquals(1, set.get("version").asInt());
    assertTrue(set.get("ok").asBoolean());
    assertTrue(set.get("message").asText().startsWith("limits set"), set.toString());
    assertEquals(slots + 1, set.get("limits").get("maxSlots").asLong());
    assertEquals(slots + 1, cli.ok("cluster", "limits", "--json").json().get("limits").get("maxSlots").asLong());
    cli.ok("cluster", "limits", "--set", "maxSlots=" + slots);
    cli.failsWith(2, "unknown limit 'max_bananas'", "cluster", "limits", "--set", "max_bananas=3");
    cli.failsWith(2, "not a whole number", "cluster", "limits", "--set", "max_slots=lots");
    cli.failsWith(1, "INVALID_ARGUMENT", "cluster", "limits", "--set", "max_groups=0");
  }

  @Test
  void topics() {
    assertTrue(cli.ok("topic", "create", "orders", "--partitions", "4").out().contains("4 partitions"));
    assertTrue(cli.ok("topic", "list").out().contains("orders"));
    JsonNode t = cli.ok("topic", "describe", "orders", "--json").json();
    assertEquals(4, t.get("partitions").size());
    assertTrue(cli.ok("topic", "split", "orders", "1", "--end-cursor", "100").out().contains("into 4 and 5"));
    assertTrue(cli.ok("topic", "merge", "orders", "2", "3").out().contains("into 6"));
    assertTrue(cli.ok("topic", "weight", "orders", "0", "2.5").out().contains("set to 2.5"));
    JsonNode after = cli.ok("topic", "describe", "orders", "--json").json();
    JsonNode p1 = after.get("partitions").get(1);
    assertEquals("SEALED", p1.get("state").asText());
    assertEquals("100", p1.get("endCursor").asText());
    assertEquals(Json.read("[4,5]"), p1.get("children"));
    assertEquals(2.5, after.get("partitions").get(0).get("weight").asDouble());
    assertTrue(cli.ok("topic", "list", "--json").json().get("topics").toString().contains("\"orders\""));
    // A stale read may lag the leader, but catches up.
    await().atMost(Duration.ofSeconds(60)).until(() -> cli.ok("topic", "describe", "orders", "--json", "--stale")
        .out().contains("\"weight\":2.5"));

    cli.failsWith(2, "partition must be a whole number", "topic", "split", "orders", "x");
    cli.failsWith(2, "--partitions", "topic", "create", "bad", "--partitions", "many");
    cli.failsWith(1, "NOT_FOUND", "topic", "describe", "nope");
    cli.failsWith(1, "ALREADY_EXISTS", "topic", "create", "orders", "--partitions", "1");
    cli.failsWith(1, "FAILED_PRECONDITION", "topic", "split", "orders", "1");
    cli.failsWith(2, "weight must be a number > 0", "topic", "weight", "orders", "0", "-1");
    cli.failsWith(2, "key must be", "topic", "split", "orders", "0", "--key", "0xZZ");
  }

  @Test
  void topicDeleteRemovesATopicNoGroupReads() {
    cli.ok("topic", "create", "scratch", "--partitions", "2");
    cli.ok("group", "create", "scratch-readers", "--topic", "scratch");
    cli.failsWith(1, "FAILED_PRECONDITION", "topic", "delete", "scratch");
    cli.ok("group", "delete", "scratch-readers");
    assertTrue(cli.ok("topic", "delete", "scratch").out().contains("deleted"));
    cli.failsWith(1, "NOT_FOUND", "topic", "describe", "scratch");
    cli.failsWith(1, "NOT_FOUND", "topic", "delete", "scratch");
  }

  @Test
  void writeCommandsPrintWhatTheClusterStoredAsVersionedJson() {
    List<String[]> writes = List.of(
        new String[] {"topic", "create", "jsonic", "--partitions", "2", "--json"},
        new String[] {"topic", "split", "jsonic", "0", "--json"},
        new String[] {"topic", "weight", "jsonic", "1", "3", "--json"},
        new String[] {"group", "create", "jsonic-g", "--topic", "jsonic", "--json"},
        new String[] {"checkpoint", "reset", "jsonic-g", "--topic", "jsonic", "--partitions", "1", "--to-cursor", "9",
            "--execute", "--json"},
        new String[] {"group", "delete", "jsonic-g", "--json"},
        new String[] {"topic", "delete", "jsonic", "--json"});
    for (String[] w : writes) {
      JsonNode doc = cli.ok(w).json();
      assertEquals(1, doc.get("version").asInt(), doc.toString());
      assertTrue(doc.get("ok").asBoolean(), doc.toString());
      assertFalse(doc.get("message").asText().isEmpty(), doc.toString());
    }
  }

  @Test
  void groupsAndCheckpoints() {
    cli.ok("topic", "create", "clicks", "--partitions", "2");
    cli.ok("group", "create", "readers", "--topic", "clicks", "--order", "--session-timeout-ms", "6000",
        "--heartbeat-interval-ms", "500", "--start-from", "end");
    assertTrue(cli.ok("group", "list").out().contains("readers"));
    assertTrue(cli.ok("group", "list", "--json").json().get("groups").toString().contains("readers"));

    JsonNode g = cli.ok("group", "describe", "readers", "--json").json();
    assertEquals(1, g.get("version").asInt());
    assertEquals("readers", g.get("group").asText());
    assertTrue(g.get("order").asBoolean());
    assertEquals(0, g.get("members").size());
    JsonNode p0 = g.get("partitions").get(0);
    for (String key : List.of("topic", "partition", "state", "holder", "target", "status", "waitingFor", "checkpoint")) {
      assertTrue(p0.has(key), "describe --json has " + key + ": " + p0);
    }
    assertEquals("UNASSIGNED", p0.get("status").asText());
    assertTrue(cli.ok("group", "describe", "readers").out().contains("UNASSIGNED"));

    // the positional form of DESIGN section 5: one partition, at once
    assertTrue(cli.ok("checkpoint", "reset", "readers", "clicks", "1", "42").out().contains("reset"));
    JsonNode cp = cli.ok("checkpoint", "list", "readers", "--json").json().get("checkpoints").get(0);
    assertEquals("42", cp.get("cursor").asText());
    assertEquals(1, cp.get("partition").asInt());
    assertTrue(cli.ok("checkpoint", "list", "readers").out().contains("42"));

    cli.failsWith(1, "NOT_FOUND", "group", "describe", "nobody");
    cli.failsWith(1, "NOT_FOUND", "checkpoint", "list", "nobody");
    cli.failsWith(1, "NOT_FOUND", "checkpoint", "reset", "nobody", "clicks", "0", "1");
    cli.failsWith(2, "partition must be a whole number", "checkpoint", "reset", "readers", "clicks", "one", "1");
    cli.failsWith(2, "--start-from must be begin or end", "group", "create", "x", "--topic", "clicks", "--start-from", "middle");
    cli.failsWith(1, "INVALID_ARGUMENT", "group", "create", "x", "--topic", "clicks", "--session-timeout-ms", "5");
    cli.failsWith(2, "--session-timeout-ms", "group", "create", "x", "--topic", "clicks", "--session-timeout-ms", "soon");
    cli.ok("group", "delete", "readers");
    cli.failsWith(1, "NOT_FOUND", "group", "delete", "readers");
  }

  /** Quotes, spaces and a leading @ reach the cluster byte for byte, as positional or option values. */
  @Test
  void valuesReachTheClusterExactlyAsGiven() {
    cli.ok("topic", "create", "exact", "--partitions", "4");
    cli.ok("group", "create", "exact-g", "--topic", "exact");
    String quoted = "\"5\"";
    String spaced = "  a cursor with spaces  ";
    String at = "@not-a-file";
    cli.ok("checkpoint", "reset", "exact-g", "exact", "0", quoted);
    cli.ok("checkpoint", "reset", "exact-g", "exact", "1", spaced);
    cli.ok("checkpoint", "reset", "exact-g", "--topic", "exact", "--partitions", "2", "--to-cursor", quoted, "--execute");
    cli.ok("checkpoint", "reset", "exact-g", "exact", "3", at);
    JsonNode list = cli.ok("checkpoint", "list", "exact-g", "--json").json().get("checkpoints");
    assertEquals(quoted, list.get(0).get("cursor").asText());
    assertEquals(spaced, list.get(1).get("cursor").asText());
    assertEquals(quoted, list.get(2).get("cursor").asText());
    assertEquals(at, list.get(3).get("cursor").asText());
  }

  @Test
  void duplicateTopicsAndDotNamesAreRefusedBeforeAnythingIsSent() {
    Cli dead = new Cli(Map.of("COHORT_PEERS", "n1=127.0.0.1:1", "COHORT_INSECURE", "1"));
    dead.failsWith(2, "topic 'clicks' is named twice", "group", "create", "g", "--topic", "clicks", "--topic", "clicks");
    dead.failsWith(2, "group name '.' is not allowed", "group", "create", ".", "--topic", "clicks");
    dead.failsWith(2, "topic name '..' is not allowed", "group", "create", "g", "--topic", "..");
    dead.failsWith(2, "topic name '.' is not allowed", "topic", "create", ".", "--partitions", "1");
  }

  @Test
  void aDeadClusterIsOneLineAfterTheTimeout() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } // closed: nothing listens there
    String peers = "n1=127.0.0.1:" + port;
    Cli dead = new Cli(Cli.INSECURE);
    for (String[] args : List.of(new String[] {"topic", "list", "--timeout", "2", "--peers", peers},
        new String[] {"group", "create", "g", "--topic", "t", "--timeout", "2", "--peers", peers})) {
      Cli.Run r = dead.failsWith(1, "cluster unreachable at " + peers + " after 2 s", args);
      assertTrue(r.millis() < 2_000 + 8_000, "gave up within the timeout and some slack: " + r.millis() + " ms");
    }
    dead.failsWith(2, "--timeout must be at least 1", "topic", "list", "--timeout", "0", "--peers", peers);
  }

  /** Every command reads --peers with the one parser: IPv6 in brackets works, without is one clear line. */
  @Test
  void ipv6PeersAreParsedTheSameByEveryCommand() {
    Cli nowhere = new Cli(Cli.INSECURE);
    List<String[]> commands = List.of(new String[] {"cluster", "status"}, new String[] {"cluster", "limits"},
        new String[] {"topic", "list"}, new String[] {"topic", "describe", "t"},
        new String[] {"topic", "create", "t", "--partitions", "1"}, new String[] {"group", "list"},
        new String[] {"group", "describe", "g"}, new String[] {"checkpoint", "list", "g"},
        new String[] {"checkpoint", "reset", "g", "--all-topics", "--to-start"},
        new String[] {"checkpoint", "delete", "g", "--all-topics"}, new String[] {"snapshot", "take"},
        new String[] {"consume", "g", "--consumer", "c", "--log-dir", tmp.toString()});
    for (String[] c : commands) {
      List<String> args = new ArrayList<>(List.of(c));
      args.addAll(List.of("--peers", "n1=::1:9861"));
      nowhere.failsWith(2, "peer 'n1=::1:9861' has an IPv6 address without brackets", args.toArray(String[]::new));
    }
    for (String[] c : List.of(new String[] {"topic", "list"}, new String[] {"cluster", "status"})) {
      List<String> args = new ArrayList<>(List.of(c));
      args.addAll(List.of("--peers", "n1=[::1]:1", "--timeout", "1"));
      Cli.Run r = nowhere.run(args.toArray(String[]::new));
      assertEquals(1, r.code(), r.out() + r.err());
      assertTrue((r.out() + r.err()).contains("[::1]:1"), r.out() + r.err());
    }
  }

  @Test
  void logProduceAndConsume() throws Exception {
    Path logDir = tmp.resolve("log");
    cli.ok("topic", "create", "events", "--partitions", "2");
    cli.ok("group", "create", "printers", "--topic", "events");
    assertEquals("5", cli.ok("log", "produce", "--dir", logDir.toString(), "events", "0", "--count", "5").out().strip());
    assertEquals("3", cli.ok("log", "produce", "--dir", logDir.toString(), "events", "1", "--count", "3").out().strip());
    cli.failsWith(2, "--count", "log", "produce", "--dir", logDir.toString(), "events", "0", "--count", "lots");

    Cli.Run run = CompletableFuture.supplyAsync(() -> cli.run("consume", "printers", "--consumer", "c1",
        "--log-dir", logDir.toString(), "--json", "--commit-every-ms", "200", "--exit-when-idle-ms", "3000"))
        .get(120, TimeUnit.SECONDS);
    assertEquals(0, run.code(), run.err());
    List<JsonNode> events = new ArrayList<>();
    run.out().lines().forEach(l -> events.add(Json.read(l)));
    assertEquals(2, events.stream().filter(e -> e.get("event").asText().equals("assigned")).count(), run.out());
    assertEquals(8, events.stream().filter(e -> e.get("event").asText().equals("record")).count(), run.out());
    assertTrue(events.stream().anyMatch(e -> e.get("event").asText().equals("committed")
        && e.get("cursor").asText().equals("5") && e.get("partition").asInt() == 0), run.out());
    for (JsonNode e : events) {
      assertEquals(1, e.get("version").asInt(), e.toString());
      assertTrue(e.has("timeMs") && e.has("topic") && e.has("partition"), e.toString());
    }
    JsonNode cps = cli.ok("checkpoint", "list", "printers", "--json").json().get("checkpoints");
    assertEquals("3", cps.get(1).get("cursor").asText(), cps.toString());

    cli.failsWith(1, "NOT_FOUND", "consume", "no-such-group", "--consumer", "c1", "--log-dir", logDir.toString(),
        "--exit-when-idle-ms", "2000");
  }

  @Test
  void snapshots() throws Exception {
    cli.ok("topic", "create", "snap", "--partitions", "3");
    cli.ok("group", "create", "snappers", "--topic", "snap");
    cli.ok("checkpoint", "reset", "snappers", "snap", "2", "77");
    Cli.Run take = cli.ok("snapshot", "take");
    assertTrue(take.out().contains("snapshot taken on"), take.out());
    assertTrue(take.err().contains("waiting for its file"), "progress on stderr: " + take.err());
    String node = take.out().split(" ")[3];
    Path storage = cluster.storageDir(node);
    await().atMost(Duration.ofSeconds(60)).until(() -> !SnapshotDirectory.list(storage).isEmpty());
    JsonNode snaps = cli.ok("snapshot", "list", "--storage", storage.toString(), "--json").json().get("snapshots");
    String file = snaps.get(0).get("file").asText();
    assertTrue(cli.ok("snapshot", "list", "--storage", storage.toString()).out().contains("snapshot."));

    JsonNode summary = cli.ok("snapshot", "inspect", file, "--json").json();
    assertTrue(summary.get("verified").asBoolean());
    assertTrue(summary.get("groups").toString().contains("snappers"));
    JsonNode one = cli.ok("snapshot", "inspect", file, "--group", "snappers", "--json").json();
    JsonNode slot2 = null;
    for (JsonNode p : one.get("partitions")) {
      slot2 = p.get("partition").asInt() == 2 ? p : slot2;
    }
    assertEquals("77", slot2.get("checkpoint").get("cursor").asText(), one.toString());
    assertTrue(cli.ok("snapshot", "inspect", file, "--group", "snappers").out().contains("77"));
    cli.failsWith(1, "no group 'ghost'", "snapshot", "inspect", file, "--group", "ghost");

    Path corrupt = tmp.resolve("snapshot.1_99");
    Files.write(corrupt, "this is not a MapDB file at all".repeat(100).getBytes(StandardCharsets.UTF_8));
    cli.failsWith(1, "snapshot.1_99", "snapshot", "inspect", corrupt.toString());
    Path flipped = tmp.resolve("snapshot.1_100");
    byte[] bytes = Files.readAllBytes(Path.of(file));
    bytes[bytes.length / 2] ^= 0x5a;
    bytes[bytes.length / 2 + 1] ^= 0x5a;
    Files.write(flipped, bytes);
    Cli.Run r = cli.run("snapshot", "inspect", flipped.toString());
    assertEquals(1, r.code(), "a flipped byte is refused: " + r.out() + r.err());
    cli.failsWith(1, "does not exist", "snapshot", "inspect", tmp.resolve("missing").toString());
    cli.failsWith(1, "not a directory", "snapshot", "list", "--storage", tmp.resolve("missing").toString());
  }

  @Test
  void badPeersAreBadUsage() {
    Cli.Run r = new Cli(Map.of("COHORT_PEERS", "n1=nowhere")).run("group", "list");
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    cli.failsWith(2, "peer", "topic", "list", "--peers", "n1=127.0.0.1:notaport");
  }

  @Test
  void serverRefusesBadInputWithOneLine() throws Exception {
    cli.failsWith(2, "peer", "server", "--id", "n1", "--storage", tmp.resolve("s1").toString(), "--peers", "junk");
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    Cli.Run r = cli.run("server", "--bootstrap", "--id", "n1", "--storage", file.toString(), "--peers", "n1=127.0.0.1:1",
        "--insecure");
    assertTrue(r.err().contains("storage dir"), r.err());
    assertTrue(r.code() != 0, r.out() + r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  /** `cohort server` as an operator runs it: three processes, a leader, and SIGTERM stops each cleanly. */
  @Test
  void serverProcessesFormAClusterAndStopOnSigterm() throws Exception {
    List<Integer> ports = MiniCluster.freePorts(3); // held open together: no port twice
    String peers = "n1=127.0.0.1:" + ports.get(0) + ",n2=127.0.0.1:" + ports.get(1) + ",n3=127.0.0.1:" + ports.get(2);
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    List<Process> servers = new ArrayList<>();
    try {
      for (String id : List.of("n1", "n2", "n3")) {
        servers.add(new ProcessBuilder(javaBin, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
            Cohort.class.getName(), "server", "--bootstrap", "--id", id, "--storage", tmp.resolve("proc-" + id).toString(),
            "--peers", peers, "--insecure").redirectErrorStream(true)
            .redirectOutput(tmp.resolve("proc-" + id + ".log").toFile()).start());
      }
      Cli procs = new Cli(Map.of("COHORT_PEERS", peers, "COHORT_INSECURE", "1")); // plaintext: said explicitly
      await().atMost(Duration.ofSeconds(120)).until(() -> procs.run("cluster", "status").code() == 0);
      assertTrue(procs.run("cluster", "status").out().contains("LEADER"));
      assertEquals(0, procs.run("topic", "create", "t", "--partitions", "1").code());
    } finally {
      for (Process p : servers) {
        p.destroy(); // SIGTERM: the shutdown hook closes the node
      }
      for (Process p : servers) {
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    for (Process p : servers) {
      assertFalse(p.isAlive());
      assertEquals(143, p.exitValue(), "ended by SIGTERM through the shutdown hook, not killed");
    }
  }
}
