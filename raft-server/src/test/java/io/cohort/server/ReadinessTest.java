package io.cohort.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.metrics.Cmd;
import io.cohort.server.metrics.MetricsSettings;
import io.cohort.server.metrics.Scrape;
import io.cohort.server.metrics.TestConsumer;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /readyz} and the signals behind it on a three-node cluster (step 9): a node cut off from
 * its peers, and a follower whose log writes fail (a full disk).
 */
class ReadinessTest {
  /** "Within seconds": Raft's freshness bound is rpc.timeout.max (1.2 s); the rest is a loaded machine. */
  private static final Duration NOT_READY_WITHIN = Duration.ofSeconds(15);

  @TempDir
  Path dir;

  private MiniCluster start() throws IOException {
    // A node whose log fails stops itself (step 10); kept running here to see what it shows meanwhile.
    return MiniCluster.builder(3, dir).tickIntervalMs(100).httpEndpoint(MetricsSettings.OFF).keepFailedNodesRunning()
        .start();
  }

  private static HttpResponse<String> readyz(MiniCluster cluster, String id) {
    return Scrape.get(cluster.httpUri(id), "/readyz");
  }

  private static void awaitReady(MiniCluster cluster, List<String> ids) {
    await("ready: " + ids).atMost(MiniCluster.TIMEOUT).untilAsserted(() -> {
      for (String id : ids) {
        HttpResponse<String> r = readyz(cluster, id);
        assertEquals(200, r.statusCode(), id + ": " + r.body());
      }
    });
  }

  private static List<String> others(MiniCluster cluster, String id) {
    return cluster.ids().stream().filter(x -> !x.equals(id)).toList();
  }

  /** One of the reasons a node cut off from its peers gives, whatever its role then. */
  private static void assertCutOff(String reason) {
    assertTrue(reason.contains("cut off from the majority") || reason.startsWith("no leader known")
        || reason.startsWith("no AppendEntries from leader"), reason);
  }

  /** A member keeps the leader's ticker appending (a cut-off leader may or may not step down: RATIS-NOTES C.4). */
  private static void keepTicking(MiniCluster cluster) {
    try (TestClient client = cluster.client()) {
      client.write(Cmd.topic("t", 2));
      client.write(Cmd.group("g", "t", 600_000));
      new TestConsumer(client, "g", "A").join();
    }
  }

  @Test
  void aLeaderCutOffFromItsPeersIsNotReadyWithinSeconds_andReadyAgainOnceTheyReturn() throws Exception {
    try (MiniCluster cluster = start()) {
      String leader = cluster.leaderId();
      keepTicking(cluster);
      awaitReady(cluster, cluster.ids());
      long t0 = System.nanoTime();
      for (String id : others(cluster, leader)) {
        cluster.kill(id);
      }
      await("cut-off leader not ready").atMost(NOT_READY_WITHIN).pollInterval(Duration.ofMillis(100))
          .until(() -> readyz(cluster, leader).statusCode() == 503);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      HttpResponse<String> r = readyz(cluster, leader);
      assertCutOff(r.body());
      assertEquals(0, Scrape.of(cluster.httpUri(leader)).valueOrZero("cohort_node_ready"));
      assertEquals(200, Scrape.get(cluster.httpUri(leader), "/livez").statusCode(), "alive all the same");
      System.out.println("cut-off leader not ready " + ms + " ms after the first kill: " + r.body().trim());

      for (String id : others(cluster, leader)) {
        cluster.restart(id);
      }
      awaitReady(cluster, cluster.ids());
    }
  }

  @Test
  void aFollowerCutOffFromItsPeersIsNotReadyWithinSeconds_andReadyAgainOnceItCaughtUp() throws Exception {
    try (MiniCluster cluster = start()) {
      String leader = cluster.leaderId();
      keepTicking(cluster);
      String follower = others(cluster, leader).get(0);
      awaitReady(cluster, cluster.ids());
      for (String id : others(cluster, follower)) {
        cluster.kill(id);
      }
      await("cut-off follower not ready").atMost(NOT_READY_WITHIN).pollInterval(Duration.ofMillis(100))
          .until(() -> readyz(cluster, follower).statusCode() == 503);
      // Killing takes a while: it may have been elected with the last peer before that one went too.
      assertCutOff(readyz(cluster, follower).body());

      for (String id : others(cluster, follower)) {
        cluster.restart(id);
      }
      cluster.leaderId();
      try (TestClient client = cluster.client()) {
        for (int i = 0; i < 20; i++) {
          client.write(Cmd.topic("u" + i, 1));
        }
      }
      awaitReady(cluster, cluster.ids());
    }
  }

  @Test
  void aFollowerWhoseLogWritesFailIsNotReadyAndShowsBehind_theLeaderSeesItsCommitLag() throws Exception {
    try (MiniCluster cluster = start(); TestClient client = cluster.client()) {
      String leader = cluster.leaderId();
      client.write(Cmd.topic("t", 1));
      client.write(Cmd.group("g", "t", 600_000));
      TestConsumer a = new TestConsumer(client, "g", "A").join();
      String failing = others(cluster, leader).get(0);
      String healthy = others(cluster, leader).get(1);
      awaitReady(cluster, cluster.ids());

      cluster.server(failing).stateMachine().failLogFlushes(new IOException("No space left on device (injected)"));
      long t0 = System.nanoTime();
      for (int i = 0; i < 30; i++) {
        a.commit(0, Integer.toString(i), 0, 0); // committed by the leader and the healthy follower
      }
      await("failing follower not ready").atMost(NOT_READY_WITHIN).pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> {
            HttpResponse<String> r = readyz(cluster, failing);
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(r.body().startsWith("raft log write failed"), r.body());
          });
      System.out.println("log failure not ready after " + (System.nanoTime() - t0) / 1_000_000 + " ms: "
          + readyz(cluster, failing).body().trim());
      await("the failure shows in the metrics").atMost(NOT_READY_WITHIN).untilAsserted(() -> {
        a.heartbeat();
        Scrape bad = Scrape.of(cluster.httpUri(failing));
        Scrape lead = Scrape.of(cluster.httpUri(leader));
        double leaderCommit = lead.value("cohort_raft_commit_index").orElseThrow();
        assertEquals(1, bad.valueOrZero("cohort_raft_log_failed"));
        assertEquals(0, bad.valueOrZero("cohort_node_ready"));
        assertTrue(bad.value("cohort_raft_applied_index").orElseThrow() < leaderCommit - 20,
            "applied " + bad.value("cohort_raft_applied_index") + " vs leader commit " + leaderCommit);
        assertTrue(lead.valueOrZero("cohort_raft_peer_commit_lag_entries", "peer", failing) > 20,
            "the leader's per-peer lag");
        assertEquals(0, lead.valueOrZero("cohort_raft_peer_commit_lag_entries", "peer", healthy), 5);
        assertEquals(0, lead.valueOrZero("cohort_raft_log_failed"));
      });
      assertEquals(200, readyz(cluster, leader).statusCode());
      assertEquals(200, readyz(cluster, healthy).statusCode());
      assertTrue(cluster.stopped().stream().anyMatch(s -> s.id().equals(failing) && s.exitCode() == FailStop.FAILED
          && s.line().contains("the Raft log cannot be written")), "and it decided to stop: " + cluster.stopped());
    }
  }
}
