package io.cohort.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.testing.MiniCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.proto.RaftProtos.TermIndexProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower with Cohort's Ratis settings never answers SUCCESS for entries it has not logged.
 * Ratis' "append-entries compose" (on by default in 3.3) tells apart concurrent appends by their
 * first index only: a second request starting at the same index but carrying more entries is
 * answered SUCCESS with its own last index while only the first request's entries are written.
 * The leader then counts the follower for entries it lacks (an acknowledged write can rest on one
 * real copy), and the follower's commit index can pass its log end, after which it refuses every
 * append: NetworkPartitionTest saw that after a heal, a node stuck for minutes. A leader that
 * resends from a follower's hint after a reconnect sends exactly such pairs.
 */
class FollowerAppendTest {
  private static final long TERM = 100; // above any term the follower reaches alone (pre-vote keeps it at 0)
  private static final int ROUNDS = 20;

  @TempDir
  Path dir;

  @Test
  void twoAppendsFromTheSameIndexAreBothWrittenBeforeEitherIsAnsweredSuccess() throws Exception {
    List<Integer> ports = MiniCluster.freePorts(2);
    ServerConfig config = ServerConfig.insecure("f", dir.resolve("f"),
        "f=127.0.0.1:" + ports.get(0) + ",l=127.0.0.1:" + ports.get(1)); // l never starts: the test is l
    try (RaftServer server = RaftServer.newBuilder().setServerId(config.id()).setGroup(config.group())
        .setStateMachine(new BaseStateMachine()).setProperties(RatisSettings.forServer(config)).build()) {
      server.start();
      var log = server.getDivision(config.groupId()).getRaftLog();
      long callId = 0;
      for (int round = 0; round < ROUNDS; round++) {
        long first = 3L * round;
        // Sent back to back as a leader's resends are: the second arrives while the first is written.
        CompletableFuture<AppendEntriesReplyProto> one = server.appendEntriesAsync(request(config, ++callId, first, 1));
        CompletableFuture<AppendEntriesReplyProto> three = server.appendEntriesAsync(request(config, ++callId, first, 3));
        for (AppendEntriesReplyProto reply : List.of(one.join(), three.join())) {
          assertEquals(AppendResult.SUCCESS, reply.getResult(), "round " + round + ": " + reply);
          long last = log.getLastEntryTermIndex().getIndex();
          assertTrue(reply.getMatchIndex() <= last, "round " + round + ": the follower answered SUCCESS up to index "
              + reply.getMatchIndex() + " but its log ends at " + last);
          assertTrue(log.getLastCommittedIndex() <= last, "round " + round + ": commit index "
              + log.getLastCommittedIndex() + " past the log end " + last);
        }
      }
      assertEquals(3L * ROUNDS - 1, log.getLastEntryTermIndex().getIndex());
    }
  }

  /** {@code count} entries from {@code first}, following entry {@code first - 1}, everything before it committed. */
  private static AppendEntriesRequestProto request(ServerConfig config, long callId, long first, int count) {
    var header = RaftRpcRequestProto.newBuilder()
        .setRequestorId(ByteString.copyFromUtf8("l"))
        .setReplyId(config.id().toByteString())
        .setRaftGroupId(RaftGroupIdProto.newBuilder().setId(config.groupId().toByteString()))
        .setCallId(callId);
    var request = AppendEntriesRequestProto.newBuilder().setServerRequest(header).setLeaderTerm(TERM)
        .setLeaderCommit(first - 1);
    if (first > 0) {
      request.setPreviousLog(TermIndexProto.newBuilder().setTerm(TERM).setIndex(first - 1));
    }
    ClientId client = ClientId.randomId();
    LongStream.range(first, first + count).forEach(i -> request.addEntries(LogEntryProto.newBuilder()
        .setTerm(TERM).setIndex(i)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder()
            .setLogData(ByteString.copyFrom("entry " + i, StandardCharsets.UTF_8))
            .setClientId(client.toByteString()).setCallId(i))));
    return request.build();
  }
}
