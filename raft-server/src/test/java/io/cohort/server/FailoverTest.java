package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Result;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.RaftClientReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leader loss: a new leader, writes go on, nothing acknowledged is lost, time and sessions hold (R6). */
class FailoverTest {
  @TempDir Path dir;

  @Test
  void leaderKill_newLeaderTakesOverAndNoAcknowledgedCommitIsLost() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir); TestClient client = cluster.client()) {
      String first = cluster.leaderId();
      client.write(createTopic("t", 2));
      client.write(createGroup("g", "t", 60_000));
      HeartbeatResult joined = client.write(join("g", "A")).getHeartbeat();
      Grant grant = joined.getGrants(0);

      String lastAcked = null;
      for (int i = 1; i <= 20; i++) {
        lastAcked = commitOk(client, joined.getSessionToken(), grant, i);
      }
      cluster.kill(first);
      String second = cluster.leaderId();
      assertNotEquals(first, second);
      for (int i = 21; i <= 40; i++) {
        lastAcked = commitOk(client, joined.getSessionToken(), grant, i);
      }
      cluster.restart(first);

      CheckpointView cp = checkpoint(client, "g", grant.getPartition());
      assertEquals(lastAcked, cp.getCursor());
      assertEquals("A", cp.getCommittedBy());
      cluster.awaitSameDigest();
      for (String id : cluster.ids()) {
        GroupView local = cluster.server(id).stateMachine().localQuery(describeGroup("g")).getGroup();
        assertEquals(io.cohort.statemachine.SessionIds.of(joined.getSessionToken()), local.getMembers(0).getSessionId(), id);
      }
    }
  }

  @Test
  void leaderKillUnderPipelinedCommits_everyAcknowledgedCursorSurvives() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir); TestClient client = cluster.client()) {
      String first = cluster.leaderId();
      client.write(createTopic("t", 4));
      client.write(createGroup("g", "t", 60_000));
      HeartbeatResult joined = client.write(join("g", "A")).getHeartbeat();
      assertEquals(4, joined.getGrantsCount());

      int total = 400;
      List<CompletableFuture<RaftClientReply>> replies = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        if (i == total / 2) {
          cluster.kill(first); // about a hundred commits are in flight when the leader goes
        }
        Grant grant = joined.getGrants(i % 4);
        replies.add(client.raft().async().send(Messages.of(
            commit("g", "A", joined.getSessionToken(), grant, String.format("%06d", i)))));
      }
      long[] acked = {-1, -1, -1, -1};
      int ok = 0;
      for (int i = 0; i < total; i++) {
        RaftClientReply reply;
        try {
          reply = replies.get(i).get(MiniCluster.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          continue; // failed for good: not acknowledged
        }
        Result r = Result.parseFrom(Messages.bytes(reply.getMessage()));
        if (reply.isSuccess() && r.getCommit().getCodesList().equals(List.of(Code.OK))) {
          int partition = joined.getGrants(i % 4).getPartition();
          acked[partition] = Math.max(acked[partition], i);
          ok++;
        }
      }
      assertNotEquals(first, cluster.leaderId());
      assertTrue(ok > total / 2, "most commits acknowledged across the failover: " + ok);
      for (CheckpointView cp : client.read(listCheckpoints("g")).getCheckpoints().getCheckpointsList()) {
        assertTrue(Long.parseLong(cp.getCursor()) >= acked[cp.getPartition()],
            "partition " + cp.getPartition() + " at " + cp.getCursor() + ", acknowledged " + acked[cp.getPartition()]);
      }
      cluster.restart(first);
      cluster.awaitSameDigest();
    }
  }

  @Test
  void R6_timeStaysMonotonicAcrossLeaderChangeAndNoHealthyConsumerIsExpired() throws Exception {
    ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();
    try (MiniCluster cluster = MiniCluster.start(3, dir); TestClient client = cluster.client();
         TestClient reader = cluster.client()) {
      String first = cluster.leaderId();
      client.write(createTopic("t", 4));
      client.write(createGroup("g", "t", 3_000));
      HeartbeatResult a = client.write(join("g", "A")).getHeartbeat();
      HeartbeatResult b = client.write(join("g", "B")).getHeartbeat();

      // Both consumers heartbeat every 250 ms from the background, as the client runtime does.
      List<Code> codes = new CopyOnWriteArrayList<>();
      AtomicInteger beats = new AtomicInteger();
      List<Grant> heldA = new CopyOnWriteArrayList<>(a.getGrantsList());
      List<Grant> heldB = new CopyOnWriteArrayList<>(b.getGrantsList());
      heartbeats.scheduleWithFixedDelay(() -> {
        try {
          beat(client, "A", a.getSessionToken(), heldA, codes);
          beat(client, "B", b.getSessionToken(), heldB, codes);
          beats.incrementAndGet();
        } catch (RuntimeException e) {
          codes.add(Code.CODE_UNSPECIFIED);
        }
      }, 0, 250, TimeUnit.MILLISECONDS);

      List<Long> nowMs = new ArrayList<>();
      nowMs.add(groupNow(reader));
      await().atMost(MiniCluster.TIMEOUT).until(() -> beats.get() >= 4);
      nowMs.add(groupNow(reader));

      cluster.kill(first);
      String second = cluster.leaderId();
      assertNotEquals(first, second);
      int beatsAtChange = beats.get();
      // Run well past one session timeout under the new leader, ticks included.
      AtomicLong start = new AtomicLong(groupNow(reader));
      nowMs.add(start.get());
      await().atMost(MiniCluster.TIMEOUT).until(() -> {
        nowMs.add(groupNow(reader));
        return beats.get() >= beatsAtChange + 8 && nowMs.get(nowMs.size() - 1) - start.get() > 4_000;
      });
      heartbeats.shutdownNow();
      assertTrue(heartbeats.awaitTermination(30, TimeUnit.SECONDS));

      for (int i = 1; i < nowMs.size(); i++) {
        assertTrue(nowMs.get(i) >= nowMs.get(i - 1), "state time went back: " + nowMs);
      }
      assertFalse(codes.contains(Code.UNKNOWN_MEMBER), "a healthy consumer was expired: " + codes);
      assertFalse(codes.contains(Code.FENCED), "a healthy consumer was fenced: " + codes);
      GroupView g = reader.read(describeGroup("g")).getGroup();
      assertEquals(List.of(io.cohort.statemachine.SessionIds.of(a.getSessionToken()),
          io.cohort.statemachine.SessionIds.of(b.getSessionToken())),
          g.getMembersList().stream().map(m -> m.getSessionId()).toList());
      assertTrue(cluster.server(second).stateMachine().tickerRunning());
      assertTrue(cluster.server(second).stateMachine().ticksSent() > 0);
    } finally {
      heartbeats.shutdownNow();
    }
  }

  private static void beat(TestClient client, String consumer, com.google.protobuf.ByteString session, List<Grant> held, List<Code> codes) {
    Result r = client.write(heartbeat("g", consumer, session, held));
    codes.add(r.getCode());
    if (r.getCode() == Code.OK) {
      List<Grant> now = new ArrayList<>(r.getHeartbeat().getGrantsList());
      now.removeIf(gr -> r.getHeartbeat().getReleaseList().stream()
          .anyMatch(p -> p.getTopic().equals(gr.getTopic()) && p.getPartition() == gr.getPartition()));
      held.clear();
      held.addAll(now);
    }
  }

  private static long groupNow(TestClient reader) {
    return reader.read(describeGroup("g")).getGroup().getNowMs();
  }

  private static String commitOk(TestClient client, com.google.protobuf.ByteString session, Grant grant, int n) {
    String cursor = "offset-" + n;
    Result r = client.write(commit("g", "A", session, grant, cursor));
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    assertEquals(List.of(Code.OK), r.getCommit().getCodesList());
    return cursor;
  }

  static CheckpointView checkpoint(TestClient client, String group, int partition) {
    return client.read(listCheckpoints(group)).getCheckpoints().getCheckpointsList().stream()
        .filter(c -> c.getPartition() == partition).findFirst().orElseThrow();
  }

}
