package io.cohort.server;

import static io.cohort.server.Commands.createTopic;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.client.ReadMode;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.DescribeTopicQuery;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R10: a leader cut off from its followers refuses linearizable reads (RETRY_LATER) rather than
 * answering from a state the others may have moved past. Ratis' ReadIndex answers a read at once
 * when a majority already acknowledged a read at the same commit index, and a cut-off leader's
 * commit index stands still. The client asks again until its call's deadline; stale reads, which
 * the caller chose, are still served.
 */
class CutOffLeaderReadTest {
  @TempDir
  Path dir;

  private static final Query DESCRIBE = Query.newBuilder().setDescribeTopic(DescribeTopicQuery.newBuilder().setTopic("t"))
      .build();

  @Test
  void R10_aLeaderKeptInOfficeWithoutItsMajorityRefusesTheReadsRatisWouldAnswerWithoutARound() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir.resolve("cluster"))) {
      String leader = cluster.leaderId();
      TestClient admin = cluster.client();
      ok(admin.write(createTopic("t", 2)));
      assertEquals(Code.OK, admin.read(DESCRIBE).getCode());
      for (String id : cluster.ids()) {
        assertFalse(cutOff(cluster.server(id)), id + ": a healthy leader, or a follower");
        assertEquals(Code.OK, direct(cluster.server(id)).getCode(), id);
      }
      long applied = cluster.server(leader).stateMachine().appliedIndex();

      CohortServer server = cluster.server(leader);
      // Writes that keep coming keep Ratis from stepping the leader down (RATIS-NOTES C.4): each is
      // appended and flushed, never committed, as from consumers that still reach a cut-off leader.
      RaftClient writer = cluster.newRaftClient();
      ScheduledExecutorService appender = Executors.newSingleThreadScheduledExecutor();
      AtomicInteger n = new AtomicInteger();
      try {
        appender.scheduleWithFixedDelay(() -> writer.async().send(Messages.of(createTopic("x" + n.incrementAndGet(), 1))),
            0, 50, TimeUnit.MILLISECONDS);
        for (String id : cluster.ids()) {
          if (!id.equals(leader)) {
            cluster.kill(id);
          }
        }
        await("the leader notices it lost its majority").atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(10)).until(() -> cutOff(server));
        // What Ratis does for a read at a commit index a majority acknowledged before (it answers
        // without a round): call query. The state it would read may be one the others moved past.
        QueryResult r = direct(server);
        assertEquals(Code.RETRY_LATER, r.getCode(), "answered from a state that may be stale: " + r);
        assertTrue(r.getMessage().startsWith("retry after " + CohortStateMachine.CUT_OFF_RETRY_MS + " ms: "),
            r.getMessage());
        assertTrue(server.division().getInfo().isLeader(), "still in office while refusing");
        QueryResult stale = admin.staleRead(DESCRIBE, applied, leader);
        assertEquals(Code.OK, stale.getCode(), "a stale read is the caller's choice: " + stale);
        assertEquals(2, stale.getTopic().getPartitionsCount());
      } finally {
        appender.shutdownNow();
        appender.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  /** The server's own judgement, with the bound it derives from its Ratis properties. */
  private static boolean cutOff(CohortServer server) throws Exception {
    var d = server.division();
    return LeaderFreshness.cutOff(d, LeaderFreshness.boundMs(d.getRaftServer().getProperties()));
  }

  /** The state machine's linearizable query, as Ratis calls it once a ReadIndex is confirmed. */
  private static QueryResult direct(CohortServer server) throws Exception {
    return QueryResult.parseFrom(Messages.bytes(server.stateMachine()
        .query(Message.valueOf(Envelopes.internal(DESCRIBE.toByteArray()))).get(30, TimeUnit.SECONDS)));
  }

  @Test
  void R10_theClientAsksARefusingLeaderAgainUntilItAnswers() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(1, dir.resolve("one"))) {
      String leader = cluster.leaderId();
      ok(cluster.client().write(createTopic("t", 3)));
      CohortStateMachine sm = cluster.server(leader).stateMachine();
      AtomicBoolean cutOff = new AtomicBoolean(true);
      sm.judgeReadsBy(cutOff::get);
      CohortClientConfig.Builder b = CohortClientConfig.builder(cluster.peers()).callTimeout(Duration.ofSeconds(60));
      try (CohortClient client = CohortClient.connect(
          cluster.adminTls() == null ? b.insecure().build() : b.tls(cluster.adminTls()).build())) {
        QueryResult refused = cluster.client().read(DESCRIBE);
        assertEquals(Code.RETRY_LATER, refused.getCode(), refused.toString());

        CompletableFuture<QueryResult> read = client.query(DESCRIBE, ReadMode.linearizable());
        await("asked again while refused").during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
            .until(() -> !read.isDone());
        cutOff.set(false);
        QueryResult r = read.get(30, TimeUnit.SECONDS);
        assertEquals(Code.OK, r.getCode(), r.toString());
        assertEquals(3, r.getTopic().getPartitionsCount());

        cutOff.set(true);
        CohortClientConfig.Builder quick = CohortClientConfig.builder(cluster.peers()).callTimeout(Duration.ofMillis(600));
        try (CohortClient impatient = CohortClient.connect(
            cluster.adminTls() == null ? quick.insecure().build() : quick.tls(cluster.adminTls()).build())) {
          QueryResult last = impatient.query(DESCRIBE, ReadMode.linearizable()).get(30, TimeUnit.SECONDS);
          assertEquals(Code.RETRY_LATER, last.getCode(), "past its deadline the last refusal is the answer: " + last);
        }
        QueryResult stale = client.query(DESCRIBE, ReadMode.stale(leader)).get(30, TimeUnit.SECONDS);
        assertEquals(Code.OK, stale.getCode(), stale.toString());
      }
    }
  }

  private static Result ok(Result r) {
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r;
  }
}
