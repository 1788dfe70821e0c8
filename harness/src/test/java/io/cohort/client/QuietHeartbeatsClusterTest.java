package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cohort.server.CohortStateMachine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heartbeats off the log (step 11) with real consumers on three in-JVM servers: consumers that
 * commit nothing keep their sessions for many intervals on answers the leader gives from its state,
 * its log growing only by its ticks; when the leader dies, the new one's term push (R6) covers the
 * renewals lost with it: nobody expires, no partition moves.
 */
class QuietHeartbeatsClusterTest {
  private static final long SESSION_MS = 3_000;
  private static final long INTERVAL_MS = 300;

  @TempDir
  Path dir;

  @Test
  void R7_idleConsumersLiveOnQuietHeartbeatsAndThroughALeaderChange() throws Exception {
    try (ClusterFixture fx = new ClusterFixture(dir)) {
      fx.admin.blocking().createTopic("q", 4);
      fx.createGroup("g-q", "q", false, SESSION_MS, INTERVAL_MS);
      List<GroupConsumer<InMemoryLog.Record>> cs = List.of(
          fx.consumer(ConsumerConfig.builder("g-q", "a").pollWaitMs(50).build(), fx.recorder("a")),
          fx.consumer(ConsumerConfig.builder("g-q", "b").pollWaitMs(50).build(), fx.recorder("b")));
      fx.awaitBalanced("g-q", cs);
      List<ByteString> sessions = cs.stream().map(GroupConsumer::session).toList();
      Map<Integer, String> holders = ClusterFixture.holders(fx.describe("g-q"));
      String leader = fx.cluster.leaderId();
      CohortStateMachine sm = fx.cluster.server(leader).stateMachine();
      long index0 = sm.appliedIndex();
      long ticks0 = sm.ticksSent();
      long quiet0 = quietOk(cs);

      await().pollDelay(Duration.ofMillis(4 * SESSION_MS)).atMost(Duration.ofSeconds(30)).until(() -> true);
      long quiet = quietOk(cs) - quiet0;
      long entries = sm.appliedIndex() - index0;
      long ticks = sm.ticksSent() - ticks0;
      assertTrue(quiet >= 20, "quiet heartbeats answered OK in four sessions: " + quiet);
      // Ratis writes a metadata entry (the commit index) after each entry: two indexes per entry. Besides
      // the ticks, only the heartbeats sent while a tick was in flight (NEEDS_WRITE) reach the log.
      long others = entries / 2 - ticks;
      assertTrue(others * 5 <= quiet, entries + " log indexes for " + ticks + " ticks and " + quiet
          + " quiet heartbeats: " + others + " other entries, too many heartbeats went through the log");
      assertTrue(sm.quietHeartbeatsOk() >= quiet, "the leader answered them: " + sm.quietHeartbeatsOk());
      System.out.printf("quiet heartbeats: %d answered off the log in %d ms, %d log indexes, %d ticks, %d others%n",
          quiet, 4 * SESSION_MS, entries, ticks, others);

      fx.cluster.kill(leader);
      await("a new leader answers quietly").atMost(Duration.ofSeconds(60))
          .until(() -> quietOk(cs) > quiet0 + quiet + 10);
      await().pollDelay(Duration.ofMillis(2 * SESSION_MS)).atMost(Duration.ofSeconds(30)).until(() -> true);
      assertEquals(sessions, cs.stream().map(GroupConsumer::session).toList(), "nobody joined again");
      cs.forEach(c -> assertEquals(GroupConsumer.Status.ACTIVE, c.status()));
      assertEquals(holders, ClusterFixture.holders(fx.describe("g-q")), "no partition moved: nobody expired");
      await("each reads what it holds").atMost(Duration.ofSeconds(30))
          .until(() -> ClusterFixture.isBalanced(fx.describe("g-q"), cs));
    }
  }

  private static long quietOk(List<GroupConsumer<InMemoryLog.Record>> cs) {
    return cs.stream().mapToLong(GroupConsumer::quietHeartbeatsOk).sum();
  }
}
