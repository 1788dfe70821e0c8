package io.cohort.server.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Query;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-node cluster with its HTTP endpoints, scraped over real HTTP while consumers work (step
 * 9): the values move as the cluster does.
 */
class ClusterMetricsTest {
  private static final Duration WAIT = MiniCluster.TIMEOUT;
  private static final String HB_OK = "cohort_commands_applied_total";

  @TempDir
  Path dir;

  private static MiniCluster start(Path dir, MetricsSettings settings) throws Exception {
    return MiniCluster.builder(3, dir).tickIntervalMs(100).httpEndpoint(settings).start();
  }

  @Test
  void everyReplicaCountsHeartbeatsAndCommits_aStalledPartitionShowsStalledAndAGrowingCheckpointAge() throws Exception {
    try (MiniCluster cluster = start(dir, MetricsSettings.OFF.withStallAfterMs(2_000));
        TestClient client = cluster.client()) {
      cluster.leaderId();
      client.write(Cmd.topic("t", 2));
      client.write(Cmd.group("g", "t", 10_000));
      TestConsumer a = new TestConsumer(client, "g", "A").join();
      a.commit(0, "100", 7, 1500); // p0: behind, and never committed again
      int rounds = 20;
      for (int i = 0; i < rounds; i++) {
        a.commit(1, Integer.toString(i), 0, 0); // p1 keeps up
      }
      // Every replica applies the same log: the same counts on each node, once each caught up.
      await("same heartbeat and commit counts on every node").atMost(WAIT).untilAsserted(() -> {
        for (String id : cluster.ids()) {
          Scrape s = Scrape.of(cluster.httpUri(id));
          assertEquals(1 + 1 + rounds, s.valueOrZero(HB_OK, "command", "heartbeat", "code", "OK"), id);
          assertEquals(1 + rounds, s.valueOrZero("cohort_commit_entries_total", "code", "OK"), id);
          assertEquals(2, s.valueOrZero("cohort_partitions", "group", "g", "status", "HELD"), id);
          assertEquals(1, s.valueOrZero("cohort_members", "group", "g"), id);
        }
      });

      // A keeps heartbeating without committing p0: stalled once its checkpoint is 2 s old.
      String leader = cluster.leaderId();
      Map<String, Double> firstAge = new HashMap<>();
      await("p0 stalled").atMost(WAIT).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
        a.heartbeat();
        Scrape s = Scrape.of(cluster.httpUri(leader));
        double age = s.valueOrZero("cohort_partition_checkpoint_age_seconds", "partition", "0");
        firstAge.putIfAbsent("p0", age);
        assertEquals(1, s.valueOrZero("cohort_partition_stalled", "group", "g", "topic", "t", "partition", "0"));
        assertEquals(0, s.valueOrZero("cohort_partition_stalled", "partition", "1"), "p1 keeps up");
        assertEquals(7, s.valueOrZero("cohort_partition_lag_records", "partition", "0"));
        assertTrue(age >= 2.0 && age > firstAge.get("p0"), "checkpoint age grows: " + age);
      });
      // The stall shows on followers too, from their own replica of the state.
      await("p0 stalled on every node").atMost(WAIT).untilAsserted(() -> {
        a.heartbeat();
        for (String id : cluster.ids()) {
          assertEquals(1, Scrape.of(cluster.httpUri(id)).valueOrZero("cohort_partition_stalled", "partition", "0"), id);
        }
      });
      // group describe says the same with the node's --stall-after-ms, asked for no threshold.
      GroupView described = client.read(Query.newBuilder().setDescribeGroup(
          DescribeGroupQuery.newBuilder().setGroup("g")).build()).getGroup();
      assertTrue(described.getPartitions(0).getHealth().getStalled(), described.toString());
      assertEquals(2_000, described.getPartitions(0).getHealth().getStallAfterMs());
      assertTrue(!described.getPartitions(1).getHealth().getStalled(), "p1 keeps up");
    }
  }

  @Test
  void aKilledLeaderShowsALeaderChangeAndTheNewRoleOnAnotherNode() throws Exception {
    try (MiniCluster cluster = start(dir, MetricsSettings.OFF)) {
      String old = cluster.leaderId();
      Map<String, Double> changesBefore = new HashMap<>();
      double termBefore = Scrape.of(cluster.httpUri(old)).value("cohort_raft_term").orElseThrow();
      for (String id : cluster.ids()) {
        Scrape s = Scrape.of(cluster.httpUri(id));
        changesBefore.put(id, s.valueOrZero("cohort_raft_leader_changes_total"));
        assertEquals(id.equals(old) ? 1 : 0, s.valueOrZero("cohort_raft_role", "role", "LEADER"), id);
        assertEquals(1, s.valueOrZero("cohort_raft_leader", "peer", old), id);
      }
      cluster.kill(old);
      String next = cluster.leaderId();
      await("the survivors report the new leader").atMost(WAIT).untilAsserted(() -> {
        for (String id : cluster.running()) {
          Scrape s = Scrape.of(cluster.httpUri(id));
          assertTrue(s.valueOrZero("cohort_raft_leader_changes_total") > changesBefore.get(id), id);
          assertEquals(id.equals(next) ? 1 : 0, s.valueOrZero("cohort_raft_role", "role", "LEADER"), id);
          assertEquals(id.equals(next) ? 0 : 1, s.valueOrZero("cohort_raft_role", "role", "FOLLOWER"), id);
          assertEquals(1, s.valueOrZero("cohort_raft_leader", "peer", next), id);
          assertTrue(s.value("cohort_raft_term").orElseThrow() > termBefore, id);
        }
      });
      Scrape leader = Scrape.of(cluster.httpUri(next));
      assertEquals(1, leader.series("ratis_leader_election_election_time_seconds").size(),
          "the election is timed in Ratis' leader_election registry");
      assertTrue(leader.valueOrZero("ratis_leader_election_election_time_seconds") >= 1);
    }
  }

  @Test
  void theEndpointServesTheTextFormatAndProbesAProbeUnderstands() throws Exception {
    try (MiniCluster cluster = start(dir, MetricsSettings.OFF)) {
      String leader = cluster.leaderId();
      String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      HttpResponse<String> text = Scrape.get(cluster.httpUri(leader), "/metrics");
      assertEquals(200, text.statusCode());
      assertTrue(text.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
          text.headers().toString());
      assertTrue(text.body().contains("# TYPE cohort_raft_role gauge"));
      assertEquals(200, Scrape.get(cluster.httpUri(leader), "/livez").statusCode());
      await("every node ready").atMost(WAIT).untilAsserted(() -> {
        for (String id : cluster.ids()) {
          HttpResponse<String> ready = Scrape.get(cluster.httpUri(id), "/readyz");
          assertEquals(200, ready.statusCode(), id + ": " + ready.body());
          assertTrue(ready.body().startsWith("ready: "), ready.body());
        }
      });
      assertEquals(404, Scrape.get(cluster.httpUri(leader), "/nope").statusCode());

      // Ratis' own registries: this node's only, dynamic parts of names as labels.
      Scrape s = Scrape.of(cluster.httpUri(leader));
      assertTrue(s.valueOrZero("ratis_log_appender_follower_match_index", "peer", follower) >= 0);
      assertEquals(2, s.series("ratis_log_appender_follower_match_index").size(), "one per follower");
      assertEquals(3, s.series("ratis_server_peer_commit_index").size(), "one per peer, itself included");
      assertEquals(1, s.valueOrZero("cohort_node_ready"));
      assertTrue(s.has("jvm_memory_used_bytes"), "JVM metrics");
      assertEquals(List.of(), s.series("cohort_raft_role", "role", "UNKNOWN"));
    }
  }
}
