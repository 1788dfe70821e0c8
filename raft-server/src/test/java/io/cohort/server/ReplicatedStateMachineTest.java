package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state machine behind Ratis: the wire contract, reads, the ticker. One cluster for all. */
class ReplicatedStateMachineTest {
  @TempDir static Path dir;
  static MiniCluster cluster;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    cluster = MiniCluster.start(3, dir);
    cluster.leaderId();
    client = cluster.client();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void commandsAreAppliedOnEveryReplicaAndAnswered() {
    assertEquals(Code.OK, client.write(createTopic("orders", 4)).getCode());
    assertEquals(Code.ALREADY_EXISTS, client.write(createTopic("orders", 4)).getCode());
    assertEquals(Code.OK, client.write(createGroup("billing", "orders", 10_000)).getCode());
    Result joined = client.write(join("billing", "A"));
    assertEquals(Code.OK, joined.getCode(), joined.getMessage());
    assertTrue(joined.getHeartbeat().getSessionToken().size() == io.cohort.statemachine.Stamp.TOKEN_BYTES);

    QueryResult group = client.read(describeGroup("billing"));
    assertEquals(Code.OK, group.getCode());
    assertEquals("A", group.getGroup().getMembers(0).getConsumerId());
    cluster.awaitSameDigest();
  }

  @Test
  void callsOnTheNodesPortRunOnItsFewCallThreads() {
    for (int i = 0; i < 20; i++) {
      assertEquals(Code.OK, client.write(createTopic("calls-" + i, 1)).getCode());
    }
    Map<String, Long> perNode = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
        .filter(n -> n.startsWith("cohort-calls-"))
        .collect(Collectors.groupingBy(n -> n.substring(0, n.lastIndexOf('-')), Collectors.counting()));
    assertFalse(perNode.isEmpty(), "the port's calls ran on gRPC's shared pool, not the node's call threads");
    perNode.forEach((node, n) -> assertTrue(n <= CallThreads.THREADS, node + " has " + n + " call threads"));
  }

  @Test
  void R8_undecodableOrEmptyCommandIsRejectedBeforeTheLog() throws Exception {
    for (byte[] bad : new byte[][] {{(byte) 0xff, (byte) 0xff, 0x01}, {}}) {
      StateMachineException e = assertThrows(StateMachineException.class,
          () -> client.raft().io().send(Messages.of(bad)));
      assertTrue(e.getMessage().contains("INVALID_ARGUMENT"), e.getMessage());
    }
  }

  @Test
  void undecodableQueryGetsInvalidArgument() throws Exception {
    RaftClientReply reply = client.raft().io().sendReadOnly(Messages.of(new byte[] {(byte) 0xff, 0x07}));
    assertEquals(Code.INVALID_ARGUMENT, QueryResult.parseFrom(Messages.bytes(reply.getMessage())).getCode());
  }

  @Test
  void R10_staleReadFromAFollowerSeesTheWriteAtItsIndex() throws Exception {
    RaftClientReply reply = client.raft().io().send(Messages.of(createTopic("stale-t", 2)));
    assertTrue(reply.isSuccess());
    String leader = cluster.leaderId();
    String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    QueryResult r = client.staleRead(io.cohort.statemachine.proto.Query.newBuilder()
        .setDescribeTopic(io.cohort.statemachine.proto.DescribeTopicQuery.newBuilder().setTopic("stale-t"))
        .build(), reply.getLogIndex(), follower);
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    assertEquals(2, r.getTopic().getPartitionsCount());
  }

  @Test
  void R7_leaderTicksExpireASilentMemberWithoutTraffic() {
    client.write(createTopic("tick-t", 1));
    assertEquals(Code.OK, client.write(createGroup("tick-g", "tick-t", 1000)).getCode());
    assertEquals(Code.OK, client.write(join("tick-g", "silent")).getCode());
    await().atMost(Duration.ofSeconds(30)).until(
        () -> client.read(describeGroup("tick-g")).getGroup().getMembersCount() == 0);
    String leader = cluster.leaderId();
    assertTrue(cluster.server(leader).stateMachine().tickerRunning());
    cluster.ids().stream().filter(id -> !id.equals(leader))
        .forEach(id -> assertFalse(cluster.server(id).stateMachine().tickerRunning(), id));
  }
}
