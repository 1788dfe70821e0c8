package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R9 on a real cluster: a command over the replicated size limit, or invalid, is refused by the
 * leader with a code before anything is appended, and no command, however large, costs the leader
 * its term.
 */
class CommandSizeLimitTest {
  private static final Pattern CODE = Pattern.compile("(?:^|: )([A-Z_]+): ");

  @TempDir Path dir;

  @Test
  void R9_oversizedAndInvalidCommandsAreRefusedBeforeTheLog_theLeaderKeepsItsTerm() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir); TestClient client = cluster.client()) {
      String leader = cluster.leaderId();
      assertEquals(Code.OK, client.write(createTopic("t", 1)).getCode());
      long term = division(cluster, leader).getInfo().getCurrentTerm();
      Map<String, String> before = awaitSettled(cluster, leader);

      int limit = Limits.DEFAULTS.maxCommandBytes();
      Map<String, byte[]> refused = new LinkedHashMap<>();
      refused.put("5 MiB", CohortStateMachineTest.sized(5 << 20));
      refused.put("1 MiB + 1", CohortStateMachineTest.sized(limit + 1));
      refused.put("200 KB without a body", Command.newBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet
          .newBuilder().addField(99, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
              .addLengthDelimited(com.google.protobuf.ByteString.copyFrom(new byte[200_000])).build()).build())
          .build().toByteArray());
      Map<String, Code> expected = Map.of("5 MiB", Code.LIMIT_EXCEEDED, "1 MiB + 1", Code.LIMIT_EXCEEDED,
          "200 KB without a body", Code.INVALID_ARGUMENT);
      for (Map.Entry<String, byte[]> c : refused.entrySet()) {
        StateMachineException e = assertThrows(StateMachineException.class,
            () -> client.raft().io().send(Messages.of(c.getValue())), c.getKey());
        assertEquals(expected.get(c.getKey()), codeIn(e), c.getKey() + ": " + e.getMessage());
      }
      // A 200 KB topic name: what the core refuses without the state, the leader refuses before the log.
      Command longName = createTopic("n".repeat(200_000), 1);
      if (Coordinator.validate(longName, longName.getSerializedSize(), Limits.DEFAULTS) != null) {
        StateMachineException e = assertThrows(StateMachineException.class,
            () -> client.raft().io().send(Messages.of(longName)));
        assertNotNull(codeIn(e), e.getMessage());
      }
      // Over the ceiling gRPC refuses the message before Ratis sees it.
      try (RaftClient once = RaftClient.newBuilder().setProperties(MiniCluster.clientProperties())
          .setRaftGroup(cluster.group()).setParameters(cluster.clientParameters())
          .setRetryPolicy(RetryPolicies.noRetry()).build()) {
        IOException e = assertThrows(IOException.class, () -> once.io().send(Messages.of(
            CohortStateMachineTest.sized((int) RatisSettings.COMMAND_CEILING.getSize() + (256 << 10)))));
        assertTrue(String.valueOf(e.getMessage()).contains("RESOURCE_EXHAUSTED"), e.toString());
      }

      assertEquals(before, awaitSettled(cluster, leader), "nothing appended on any node");
      assertEquals(leader, cluster.leaderId());
      assertEquals(term, division(cluster, leader).getInfo().getCurrentTerm(), "the leader kept its term");
      long t0 = System.nanoTime();
      Result after = client.write(createTopic("after", 1));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(Code.OK, after.getCode(), after.getMessage());
      assertTrue(ms < 2_000, "a valid command right after took " + ms + " ms");
      assertEquals(term, division(cluster, leader).getInfo().getCurrentTerm());
    }
  }

  /** The code as the client's Failures reads it: "CODE: text" at the start or after ": ". */
  static Code codeIn(Exception e) {
    Matcher m = CODE.matcher(String.valueOf(e.getMessage()));
    while (m.find()) {
      for (Code c : Code.values()) {
        if (c.name().equals(m.group(1)) && c != Code.OK) {
          return c;
        }
      }
    }
    return null;
  }

  static RaftServer.Division division(MiniCluster cluster, String id) throws IOException {
    return cluster.server(id).division();
  }

  /**
   * Each node's commit index and last log entry once every node has committed the leader's last
   * entry (followers learn the commit index with the next heartbeat).
   */
  static Map<String, String> awaitSettled(MiniCluster cluster, String leader) {
    return org.awaitility.Awaitility.await("all nodes committed the leader's log").atMost(MiniCluster.TIMEOUT)
        .until(() -> {
          long last = division(cluster, leader).getRaftLog().getLastEntryTermIndex().getIndex();
          Map<String, String> out = new TreeMap<>();
          for (String id : cluster.running()) {
            var log = division(cluster, id).getRaftLog();
            if (log.getLastCommittedIndex() != last) {
              return null;
            }
            out.put(id, "commit " + log.getLastCommittedIndex() + ", last " + log.getLastEntryTermIndex());
          }
          return out;
        }, java.util.Objects::nonNull);
  }
}
