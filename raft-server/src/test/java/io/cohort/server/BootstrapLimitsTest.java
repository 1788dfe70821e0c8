package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.ClusterInfoQuery;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Query;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** R9: limits are replicated state, set at bootstrap by the first leader, never again by a restart. */
class BootstrapLimitsTest {
  private static final Query CLUSTER_INFO =
      Query.newBuilder().setClusterInfo(ClusterInfoQuery.getDefaultInstance()).build();

  @TempDir Path dir;

  @Test
  void R9_bootstrapLimitsAreSetOnceOnEveryNode_aRestartWithOtherBootstrapLimitsChangesNothing() throws Exception {
    LimitsRecord bootstrap = LimitsRecord.newBuilder().setMaxTopics(50).setMaxSlots(5_000)
        .setMaxCommandBytes(512 * 1024).build();
    LimitsRecord expected = Limits.DEFAULTS.with(bootstrap).toRecord();
    try (MiniCluster cluster = MiniCluster.builder(3, dir).bootstrapLimits(bootstrap).start();
         TestClient client = cluster.client()) {
      cluster.leaderId();
      awaitLimitsOnEveryNode(cluster, expected);
      assertEquals(expected, client.read(CLUSTER_INFO).getClusterInfo().getLimits());
      // In force at once: the leader refuses a command over the bootstrap max_command_bytes.
      StateMachineException e = assertThrows(StateMachineException.class,
          () -> client.raft().io().send(Messages.of(CohortStateMachineTest.sized(600 * 1024))));
      assertEquals(Code.LIMIT_EXCEEDED, CommandSizeLimitTest.codeIn(e), e.getMessage());

      // Every node restarts with other bootstrap limits: the replicated ones are explicit now.
      LimitsRecord other = LimitsRecord.newBuilder().setMaxTopics(7).setMaxSlots(70).build();
      for (String id : cluster.ids()) {
        cluster.kill(id);
      }
      for (String id : cluster.ids()) {
        cluster.reconfigure(id, c -> c.withStateMachine(c.stateMachine().withBootstrapLimits(other)));
        cluster.restart(id);
      }
      cluster.leaderId();
      assertEquals(Code.OK, client.write(createTopic("after-restart", 1)).getCode());
      // A bootstrap SetLimits would follow leader-ready within milliseconds: none comes.
      await("limits unchanged").during(Duration.ofSeconds(1)).atMost(MiniCluster.TIMEOUT)
          .until(() -> cluster.ids().stream().allMatch(id -> limits(cluster, id).equals(expected)));
      assertEquals(expected, client.read(CLUSTER_INFO).getClusterInfo().getLimits());
    }
  }

  private static void awaitLimitsOnEveryNode(MiniCluster cluster, LimitsRecord expected) {
    await("bootstrap limits on every node").atMost(MiniCluster.TIMEOUT)
        .until(() -> cluster.ids().stream().allMatch(id -> limits(cluster, id).equals(expected)));
  }

  /** The node's own view (a local query), so every replica is checked, not just the leader. */
  private static LimitsRecord limits(MiniCluster cluster, String id) {
    return cluster.server(id).stateMachine().localQuery(CLUSTER_INFO).getClusterInfo().getLimits();
  }
}
