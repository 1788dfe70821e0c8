package io.cohort.harness.netns;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.tools.json.Json;
import io.cohort.tools.log.FileLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Network partitions, not only kills: each server, each consumer and the test's probe run in their
 * own network namespace ({@link NetNs}), and links are cut and healed while consumers read. After
 * each scenario: never two readers of a partition (from the consumers' own event lines, one clock,
 * no allowance), replicas identical; at the end, nothing acknowledged lost. Skipped, saying why,
 * where namespaces cannot be created (not root, no iproute2); {@code -Dcohort.netns.ip=false}
 * simulates that.
 */
@Tag("alone") // times cuts against election timers: after the other classes, one at a time
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkPartitionTest {
  private static final String TOPIC = "pt";
  private static final String GROUP = "pg";
  private static final int PARTITIONS = 4;
  private static final List<String> CONSUMERS = List.of("c1", "c2");
  private static final String OBSERVER = "obs";
  private static final Duration ELECTION = Duration.ofSeconds(30);
  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final Duration STALE_LEADER_WATCH = Duration.ofSeconds(6);

  Path dir;
  NetNs net;
  NsCluster cluster;
  Probe probe;
  FileLog log;
  ScheduledExecutorService producer;
  /** While set, nothing is produced: the consumers commit nothing, so their heartbeats go quietly (step 11). */
  volatile boolean idle;
  final Map<String, String> findings = new TreeMap<>();
  String skipped;
  /** The servers the probe's reads go to: during a cut, the side that can serve them. */
  List<String> serving = NsCluster.SERVERS;

  @BeforeAll
  void threeServersTwoConsumersEachInItsOwnNamespace(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path tmp)
      throws Exception {
    dir = tmp; // kept when a test fails: n*.log, c*.jsonl, probe.err
    String ip = NetNs.ipCommand();
    skipped = skipReason(ip).orElse(null);
    if (skipped != null) {
      System.out.println(skipped); // and each test is skipped with it
      return;
    }
    NetNs.cleanStale(ip).forEach(s -> System.out.println("removed a stale namespace: " + s));
    List<String> members = new ArrayList<>(NsCluster.SERVERS);
    members.addAll(CONSUMERS);
    members.add(OBSERVER);
    net = NetNs.create(ip, members);
    cluster = NsCluster.start(net, dir, OBSERVER);
    probe = cluster.probe();
    probe.json("topic", "create", TOPIC, "--partitions", Integer.toString(PARTITIONS), "--json", "--timeout", "30");
    probe.json("group", "create", GROUP, "--topic", TOPIC, "--session-timeout-ms", "3000", "--heartbeat-interval-ms",
        "1000", "--json", "--timeout", "30");
    log = new FileLog(dir.resolve("log"));
    for (int p = 0; p < PARTITIONS; p++) {
      log.append(TOPIC, p, 20, System.currentTimeMillis());
    }
    producer = Executors.newSingleThreadScheduledExecutor();
    long stopAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(6); // bounded even if a test hangs
    producer.scheduleWithFixedDelay(() -> {
      if (System.nanoTime() < stopAt && !idle) {
        for (int p = 0; p < PARTITIONS; p++) {
          try {
            log.append(TOPIC, p, 2, System.currentTimeMillis());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
    }, 200, 200, TimeUnit.MILLISECONDS);
    for (String c : CONSUMERS) {
      cluster.startConsumer(c, GROUP, log.dir());
    }
    awaitBalanced(SETTLE);
  }

  @BeforeEach
  void onlyWithNamespaces() {
    Assumptions.assumeTrue(skipped == null, skipped);
  }

  @AfterAll
  void tearDown() throws IOException {
    if (producer != null) {
      producer.shutdownNow();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (net != null) {
      net.close();
    }
    findings.forEach((k, v) -> System.out.println("finding " + k + ": " + v));
  }

  /**
   * The consumers still reach the old leader: their heartbeats are appended there but never
   * committed, so they must fail over to the new leader (or stop on their own clocks) and never
   * keep reading on the old leader's word.
   */
  @Test
  @Order(1)
  void leaderCutOffFromBothFollowersIsReplacedAndHealsIntoIdenticalReplicas() throws Exception {
    String old = awaitLeader();
    long oldTerm = term(old);
    List<String> others = others(old);
    long cutAt = System.currentTimeMillis();
    try {
      net.split(List.of(old), others);
      serving = others;
      long cut = System.currentTimeMillis();
      String next = awaitNewLeader(old, oldTerm);
      findings.put("1 leader cut off", old + " (term " + oldTerm + ") replaced by " + next + " (term " + term(next)
          + ") within " + (System.currentTimeMillis() - cut) + " ms of the cut; " + staleLeaderNote(old, oldTerm));
      awaitCommittedAfter(cutAt);
      awaitBalanced(SETTLE);
    } finally {
      net.healAll();
      serving = NsCluster.SERVERS;
    }
    awaitIdenticalReplicas();
    assertNeverTwoReaders();
  }

  @Test
  @Order(2)
  void aFollowerCutOffFromEveryoneCatchesUpAfterHealing() throws Exception {
    String leader = awaitLeader();
    long oldTerm = term(leader);
    String follower = others(leader).get(0);
    long cutAt = System.currentTimeMillis();
    try {
      net.split(List.of(follower), List.of(others(leader).get(1), leader, "c1", "c2"));
      serving = others(follower);
      awaitCommittedAfter(cutAt); // two of three still commit
    } finally {
      net.healAll();
      serving = NsCluster.SERVERS;
    }
    awaitIdenticalReplicas();
    findings.put("2 follower cut off", follower + " cut off from " + leader + " (term " + oldTerm + ") and the rest;"
        + " after healing " + awaitLeader() + " leads term " + term(awaitLeader()));
    awaitBalanced(SETTLE);
    assertNeverTwoReaders();
  }

  @Test
  @Order(3)
  void aConsumerCutOffFromTheClusterStopsReadingBeforeItsPartitionsAreGrantedElsewhere() throws Exception {
    awaitBalanced(SETTLE);
    Set<String> itsPartitions = heldBy("c1");
    long cutAt = System.currentTimeMillis();
    try {
      net.split(List.of("c1"), NsCluster.SERVERS);
      await("c2 holds every partition").atMost(SETTLE).pollInterval(Duration.ofMillis(500))
          .until(() -> heldBy("c2").size() == PARTITIONS);
      Set<String> stopped = revokedAfter("c1", cutAt, "SESSION_AT_RISK");
      assertTrue(stopped.containsAll(itsPartitions), "c1 stopped reading " + itsPartitions
          + " on its own clock: " + stopped);
      findings.put("3 consumer cut off", "c1 stopped " + itsPartitions + " itself; c2 granted them");
    } finally {
      net.healAll();
    }
    awaitBalanced(SETTLE);
    assertNeverTwoReaders();
  }

  @Test
  @Order(4)
  void aOneTwoSplitElectsOnTheMajoritySideAndTheMinorityLeaderKeepsNoReaderGoing() throws Exception {
    awaitBalanced(SETTLE);
    String old = awaitLeader();
    long oldTerm = term(old);
    List<String> majority = new ArrayList<>(others(old));
    majority.add("c2");
    Set<String> c1Had = heldBy("c1");
    // Idle consumers: their heartbeats go as quiet ones, which the cut-off leader must refuse (it has
    // not heard from a majority) or c1 would read on while c2 is granted its partitions.
    idle = true;
    await("the consumers commit what they read").pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
        .until(() -> true);
    long cutAt = System.currentTimeMillis();
    try {
      net.split(List.of(old, "c1"), majority);
      serving = others(old);
      long cut = System.currentTimeMillis();
      String next = awaitNewLeader(old, oldTerm);
      long electedMs = System.currentTimeMillis() - cut;
      String stale = staleLeaderNote(old, oldTerm);
      await("c2 holds every partition").atMost(SETTLE).pollInterval(Duration.ofMillis(500))
          .until(() -> heldBy("c2").size() == PARTITIONS);
      Set<String> stopped = revokedAfter("c1", cutAt, "SESSION_AT_RISK");
      assertTrue(stopped.containsAll(c1Had), "c1, beside the old leader, stopped reading " + c1Had
          + " on its own clock: " + stopped);
      findings.put("4 split 1|2", old + "+c1 | " + majority + ": " + next + " leads term " + term(next) + " within "
          + electedMs + " ms of the cut; c1 stopped " + stopped + " on its own clock; " + stale);
    } finally {
      idle = false;
      net.healAll();
      serving = NsCluster.SERVERS;
    }
    awaitIdenticalReplicas();
    awaitBalanced(SETTLE);
    assertNeverTwoReaders();
  }

  @Test
  @Order(5)
  void nothingAcknowledgedIsLostAndReplicasAreIdentical() throws Exception {
    producer.shutdownNow();
    cluster.stopConsumers(); // SIGTERM: each commits what it read and leaves
    ReaderLines lines = assertNeverTwoReaders();
    Map<String, Long> last = new TreeMap<>();
    for (JsonNode c : probe.json("checkpoint", "list", GROUP, "--json", "--timeout", "30").get("checkpoints")) {
      last.put(c.get("topic").asText() + "/" + c.get("partition").asInt(), Long.parseLong(c.get("cursor").asText()));
    }
    assertEquals(PARTITIONS, lines.committedMax().size(), "every partition had acknowledged commits: " + lines.counts());
    lines.committedMax().forEach((p, acked) -> assertTrue(last.containsKey(p) && last.get(p) >= acked,
        "acknowledged " + p + " at " + acked + ", final checkpoint " + last.get(p)));
    awaitIdenticalReplicas();
    assertTrue(lines.counts().get("handoffs between consumers") >= 2, lines.counts().toString());
    findings.put("5 totals", lines.counts() + ", acknowledged " + lines.committedMax() + ", final " + last);
  }

  // ------------------------------------------------------------------ helpers

  /** Why the partition tests cannot run on this machine (no network namespaces), or empty. */
  static Optional<String> skipReason(String ip) {
    return NetNs.unavailable(ip).map(why -> "network partition tests skipped: cannot create network namespaces"
        + " here (they need root or CAP_SYS_ADMIN+CAP_NET_ADMIN, and iproute2): " + why);
  }

  /** Skips the calling test (a JUnit assumption) with {@link #skipReason} where namespaces cannot be made. */
  static void assumeNamespaces(String ip) {
    Optional<String> why = skipReason(ip);
    Assumptions.assumeTrue(why.isEmpty(), () -> why.orElse(""));
  }

  private ReaderLines assertNeverTwoReaders() throws IOException {
    ReaderLines lines = ReaderLines.read(cluster.eventFiles(), cluster.consumerEndMs());
    assertEquals(List.of(), lines.violations().subList(0, Math.min(5, lines.violations().size())),
        lines.violations().size() + " violations");
    return lines;
  }

  private List<String> others(String server) {
    return NsCluster.SERVERS.stream().filter(s -> !s.equals(server)).toList();
  }

  private String awaitLeader() {
    return await("a leader").atMost(ELECTION).pollInterval(Duration.ofMillis(300)).until(cluster::leader,
        Optional::isPresent).orElseThrow();
  }

  /** A peer other than {@code old} leads in a later term. */
  private String awaitNewLeader(String old, long oldTerm) {
    return await("a new leader after " + old).atMost(ELECTION).pollInterval(Duration.ofMillis(200))
        .until(() -> cluster.status().stream().filter(s -> !s.get("id").asText().equals(old)
            && "LEADER".equals(s.get("role").asText()) && s.get("term").asLong() > oldTerm)
            .map(s -> s.get("id").asText()).findFirst(), Optional::isPresent).orElseThrow();
  }

  private long term(String peer) throws IOException {
    return cluster.status().stream().filter(s -> s.get("id").asText().equals(peer)).findFirst()
        .map(s -> s.get("term").asLong()).orElse(-1L);
  }

  /**
   * RATIS-NOTES C.4: how long a cut-off leader still says it leads once another one does (at most
   * {@link #STALE_LEADER_WATCH}; its ticks are never committed, so it grants nothing).
   */
  private String staleLeaderNote(String old, long oldTerm) throws IOException {
    long t0 = System.nanoTime();
    long deadline = t0 + STALE_LEADER_WATCH.toNanos();
    while (true) {
      JsonNode s = cluster.status().stream().filter(p -> p.get("id").asText().equals(old)).findFirst().orElseThrow();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      if (!"LEADER".equals(s.get("role").asText()) || s.get("term").asLong() != oldTerm) {
        return "the old leader stopped leading " + ms + " ms later (" + s.get("role").asText() + ", term "
            + s.get("term").asLong() + ")";
      }
      if (System.nanoTime() > deadline) {
        return "the old leader still said LEADER in term " + oldTerm + " " + ms + " ms later (RATIS-NOTES C.4)";
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
  }

  private JsonNode describe() throws IOException {
    return probe.json("group", "describe", GROUP, "--json", "--timeout", "5", "--peers", cluster.peers(serving));
  }

  /** Partitions ("topic/p") the member holds, per the leader. */
  private Set<String> heldBy(String consumer) throws IOException {
    Set<String> out = new HashSet<>();
    for (JsonNode p : describe().get("partitions")) {
      if (consumer.equals(p.get("holder").asText(null)) && "HELD".equals(p.get("status").asText())) {
        out.add(p.get("topic").asText() + "/" + p.get("partition").asInt());
      }
    }
    return out;
  }

  /** Both consumers members, two partitions each, all held. */
  private void awaitBalanced(Duration max) {
    await("both consumers reading two partitions each").atMost(max).pollInterval(Duration.ofMillis(500))
        .ignoreExceptions().until(() -> {
          JsonNode g = describe();
          boolean even = g.get("members").size() == CONSUMERS.size();
          for (JsonNode m : g.get("members")) {
            even &= m.get("grants").size() == PARTITIONS / CONSUMERS.size();
          }
          for (JsonNode p : g.get("partitions")) {
            even &= "HELD".equals(p.get("status").asText());
          }
          return even;
        });
  }

  /** Some consumer's commit was acknowledged after {@code ms}: the cluster makes progress. */
  private void awaitCommittedAfter(long ms) {
    await("a commit acknowledged after the cut").atMost(SETTLE).pollInterval(Duration.ofMillis(500))
        .until(() -> {
          for (Path f : cluster.eventFiles().values()) {
            for (String line : Files.readAllLines(f)) {
              if (line.contains("\"event\":\"committed\"") && line.endsWith("}")
                  && Json.read(line).get("timeMs").asLong() > ms) {
                return true;
              }
            }
          }
          return false;
        });
  }

  /** Partitions the consumer printed released/fenced for after {@code ms}, with this reason. */
  private Set<String> revokedAfter(String consumer, long ms, String reason) throws IOException {
    Set<String> out = new HashSet<>();
    for (String line : Files.readAllLines(cluster.events(consumer))) {
      if (!line.startsWith("{") || !line.endsWith("}")) {
        continue;
      }
      JsonNode e = Json.read(line);
      if (e.get("timeMs").asLong() > ms && reason.equals(e.path("reason").asText())) {
        out.add(e.get("topic").asText() + "/" + e.get("partition").asInt());
      }
    }
    return out;
  }

  /** The three nodes reachable, at the same applied index, with the same state digest. */
  private void awaitIdenticalReplicas() {
    await("identical replicas").atMost(SETTLE).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
      Set<String> digests = new HashSet<>();
      for (String id : NsCluster.SERVERS) {
        Probe.Answer a = probe.run("@digest", id);
        if (a.code() != 0) {
          return false;
        }
        digests.add(a.out());
      }
      return digests.size() == 1;
    });
  }
}
