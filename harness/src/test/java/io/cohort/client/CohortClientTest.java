package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.TopicView;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin and consumer calls of CohortClient against three in-JVM servers. */
class CohortClientTest {
  @TempDir
  static Path dir;

  private static ClusterFixture fx;
  private static BlockingCohortClient admin;

  @BeforeAll
  static void startCluster() throws Exception {
    fx = new ClusterFixture(dir);
    admin = fx.admin.blocking();
  }

  @AfterAll
  static void stopCluster() {
    if (fx != null) {
      fx.close();
    }
  }

  private static Code rejection(Runnable call) {
    return assertThrows(CohortRejectedException.class, call::run).code();
  }

  @Test
  void topicsSplitMergeAndWeightsRoundTrip() {
    TopicView created = admin.createTopic("orders", 4);
    assertEquals(4, created.getPartitionsCount());
    assertEquals(Code.ALREADY_EXISTS, rejection(() -> admin.createTopic("orders", 4)));
    assertEquals(Code.INVALID_ARGUMENT, rejection(() -> admin.createTopic("bad name!", 1)));

    assertEquals(List.of(4, 5), admin.split("orders", 3));
    assertEquals(6, admin.merge("orders", 0, 1));
    admin.setWeight("orders", 2, 2.5);
    TopicView t = admin.describeTopic("orders");
    assertEquals(7, t.getPartitionsCount());
    assertEquals(PartitionState.SEALED, t.getPartitions(3).getState());
    assertEquals(2.5, t.getPartitions(2).getWeight());
    assertTrue(admin.listTopics().stream().anyMatch(v -> v.getTopic().equals("orders")));
    assertEquals(Code.NOT_FOUND, rejection(() -> admin.describeTopic("nope")));
    assertEquals(Code.NOT_FOUND, rejection(() -> admin.split("nope", 0)));
  }

  @Test
  void groupsCheckpointsAndConsumerCallsRoundTrip() {
    admin.createTopic("clicks", 2);
    admin.createGroup("analytics", "clicks");
    assertEquals(Code.ALREADY_EXISTS, rejection(() -> admin.createGroup("analytics", "clicks")));
    assertTrue(admin.listGroups().stream().anyMatch(g -> g.getGroup().equals("analytics")));

    HeartbeatResult joined = admin.heartbeat(Heartbeat.newBuilder().setGroup("analytics").setConsumerId("c1").build());
    assertEquals(16, joined.getSessionToken().size(), "128 random bits");
    assertEquals(2, joined.getGrantsCount());
    long epoch = joined.getGrants(0).getEpoch();
    CommitResult commit = admin.commit(CommitCheckpoints.newBuilder().setGroup("analytics").setConsumerId("c1")
        .setSessionToken(joined.getSessionToken())
        .addEntries(CheckpointEntry.newBuilder().setTopic("clicks").setPartition(0).setEpoch(epoch).setCursor("42"))
        .addEntries(CheckpointEntry.newBuilder().setTopic("clicks").setPartition(1).setEpoch(epoch - 1).setCursor("9"))
        .build());
    assertEquals(List.of(Code.OK, Code.FENCED), commit.getCodesList());
    assertEquals("42", admin.listCheckpoints("analytics").getCheckpoints(0).getCursor());
    assertEquals(Code.FENCED, rejection(() -> admin.heartbeat(Heartbeat.newBuilder().setGroup("analytics")
        .setConsumerId("c1").setSessionToken(com.google.protobuf.ByteString.copyFrom(new byte[16])).build())));

    admin.resetCheckpoint("analytics", "clicks", 0, "7");
    GroupView v = admin.describeGroup("analytics");
    assertEquals("7", v.getPartitions(0).getCheckpoint().getCursor());
    assertEquals(1, v.getMembersCount());

    admin.leave(Leave.newBuilder().setGroup("analytics").setConsumerId("c1").setSessionToken(joined.getSessionToken()).build());
    assertEquals(Code.UNKNOWN_MEMBER, rejection(() -> admin.heartbeat(Heartbeat.newBuilder().setGroup("analytics")
        .setConsumerId("c1").setSessionToken(joined.getSessionToken()).build())));
    assertEquals(0, admin.describeGroup("analytics").getMembersCount());
    admin.deleteGroup("analytics", false);
    assertEquals(Code.NOT_FOUND, rejection(() -> admin.describeGroup("analytics")));
  }

  @Test
  void asyncCallsCompleteWithTypedExceptions() throws Exception {
    CompletableFuture<TopicView> f = fx.admin.describeTopic("missing-topic");
    ExecutionException e = assertThrows(ExecutionException.class, f::get);
    CohortRejectedException r = assertInstanceOf(CohortRejectedException.class, e.getCause());
    assertEquals(Code.NOT_FOUND, r.code());
  }

  @Test
  void bytesThatAreNotACommandAreRejectedWithInvalidArgument() {
    CompletableFuture<?> f = fx.admin.execute("garbage".getBytes(StandardCharsets.UTF_8), "raw");
    ExecutionException e = assertThrows(ExecutionException.class, f::get);
    CohortRejectedException r = assertInstanceOf(CohortRejectedException.class, e.getCause());
    assertEquals(Code.INVALID_ARGUMENT, r.code());
  }

  @Test
  void R10_staleReadsFromEveryReplicaCatchUpWithTheLinearizableState() {
    admin.createTopic("digest", 1);
    DigestView linear = admin.stateDigest(ReadMode.linearizable());
    for (String peer : fx.cluster.ids()) {
      await().atMost(ClusterFixture.TIMEOUT).until(() -> {
        DigestView stale = admin.stateDigest(ReadMode.stale(peer));
        return stale.getAppliedIndex() >= linear.getAppliedIndex();
      });
    }
    assertTrue(admin.listTopics().size() <= fx.admin.listTopics(ReadMode.staleAny()).join().size() + 10);
    assertThrows(IllegalArgumentException.class, () -> admin.stateDigest(ReadMode.stale("n9")));
  }

  @Test
  void anUnreachableClusterFailsWithinTheCallTimeoutAsUnavailable() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    CohortClientConfig config = CohortClientConfig.builder("n1=127.0.0.1:" + port).insecure()
        .attemptTimeout(Duration.ofMillis(500)).callTimeout(Duration.ofSeconds(2)).build();
    try (CohortClient dead = CohortClient.connect(config)) {
      long start = System.nanoTime();
      CohortException e = assertThrows(CohortException.class, () -> dead.blocking().listTopics());
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertInstanceOf(CohortUnavailableException.class, e);
      assertTrue(e.isRetriable());
      assertTrue(ms < 10_000, "gave up after " + ms + " ms");
      assertFalse(e instanceof CohortRejectedException);
    }
  }
}
