package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R6 and R7 against wall-clock steps on a real three-node cluster: the leader's stamps follow real
 * elapsed time, so a step of +12 s or -1 h neither expires a consumer that heartbeats within its
 * session timeout nor delays the expiry of a silent one beyond session timeout + tick interval
 * (plus {@link #ALLOWANCE_MS} for commits and polling on a loaded machine). Times are measured
 * with the test's monotonic clock, the same one the servers' stamps follow.
 */
class ClockStepTest {
  private static final long SESSION_MS = 3_000;
  private static final long TICK_MS = 100;
  private static final long ALLOWANCE_MS = 1_000;
  private static final long HEARTBEAT_MS = 300;

  @TempDir Path dir;
  MiniCluster cluster;
  TestClient client;
  TestClient reader;
  final ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor();
  final List<Code> healthyCodes = new CopyOnWriteArrayList<>();
  HeartbeatResult healthy;

  @BeforeEach
  void start() throws Exception {
    cluster = MiniCluster.builder(3, dir).tickIntervalMs(TICK_MS).start();
    cluster.leaderId();
    client = cluster.client();
    reader = cluster.client();
    assertEquals(Code.OK, client.write(createTopic("t", 4)).getCode());
    assertEquals(Code.OK, client.write(createGroup("g", "t", SESSION_MS)).getCode());
    healthy = client.write(join("g", "A")).getHeartbeat();
    List<Grant> held = new CopyOnWriteArrayList<>(healthy.getGrantsList());
    // A heartbeats every 300 ms from the background, as the client runtime does.
    beats.scheduleWithFixedDelay(() -> {
      try {
        Result r = client.write(heartbeat("g", "A", healthy.getSessionToken(), held));
        healthyCodes.add(r.getCode());
        if (r.getCode() == Code.OK) {
          List<Grant> now = new ArrayList<>(r.getHeartbeat().getGrantsList());
          now.removeIf(gr -> r.getHeartbeat().getReleaseList().stream()
              .anyMatch(p -> p.getTopic().equals(gr.getTopic()) && p.getPartition() == gr.getPartition()));
          held.clear();
          held.addAll(now);
        }
      } catch (RuntimeException e) {
        healthyCodes.add(Code.CODE_UNSPECIFIED); // no answer (an election): retried next time
      }
    }, 0, HEARTBEAT_MS, TimeUnit.MILLISECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    beats.shutdownNow();
    assertTrue(beats.awaitTermination(30, TimeUnit.SECONDS));
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void R6_R7_wallClockStepsOnTheLeaderWithinATerm_noHealthyExpiry_noDelayedExpiry() throws Exception {
    String leader = cluster.leaderId();
    long term = cluster.server(leader).division().getInfo().getCurrentTerm();
    for (long stepMs : new long[] {12_000, -3_600_000}) {
      String silent = "S" + stepMs;
      Joined s = joinSilently(silent);
      cluster.clock(leader).stepMs(stepMs);
      assertExpiresOnTime(silent, s.sentNanos(), s.ackedNanos(), "step " + stepMs + " ms");
    }
    assertHealthyConsumerKept();
    assertEquals(leader, cluster.leaderId(), "one term: the leader did not change");
    assertEquals(term, cluster.server(leader).division().getInfo().getCurrentTerm());
  }

  @Test
  void R6_R7_aNewLeaderWithASkewedWallClock_noHealthyExpiry_noDelayedExpiry() throws Exception {
    for (long skewMs : new long[] {12_000, -3_600_000}) {
      String old = cluster.leaderId();
      cluster.ids().stream().filter(id -> !id.equals(old)).forEach(id -> cluster.clock(id).setOffsetMs(skewMs));
      String silent = "S" + skewMs;
      Joined s = joinSilently(silent);
      cluster.kill(old);
      String next = cluster.leaderId();
      long readyNanos = System.nanoTime();
      assertNotEquals(old, next);
      // A new term pushes every deadline to its first entry + the session timeout (R6).
      assertExpiresOnTime(silent, s.sentNanos(), Math.max(s.ackedNanos(), readyNanos) + TICK_MS * 1_000_000,
          "new leader " + next + " skewed " + skewMs + " ms");
      cluster.restart(old);
      long applied = cluster.server(next).stateMachine().appliedIndex();
      await(old + " caught up").atMost(MiniCluster.TIMEOUT)
          .until(() -> cluster.server(old).stateMachine().appliedIndex() >= applied);
    }
    assertHealthyConsumerKept();
  }

  private record Joined(long sentNanos, long ackedNanos) {}

  /** A consumer that joins and never heartbeats again. */
  private Joined joinSilently(String consumer) {
    long sent = System.nanoTime();
    assertEquals(Code.OK, client.write(join("g", consumer)).getCode());
    return new Joined(sent, System.nanoTime());
  }

  /**
   * The silent consumer is gone no earlier than a session timeout after its heartbeat was sent, and
   * no later than a session timeout + tick interval + allowance after {@code fromNanos}.
   */
  private void assertExpiresOnTime(String consumer, long sentNanos, long fromNanos, String what) {
    long goneNanos = await(consumer + " expired (" + what + ")").atMost(MiniCluster.TIMEOUT)
        .pollInterval(Duration.ofMillis(50)).until(() -> {
          GroupView g = reader.read(describeGroup("g")).getGroup();
          return g.getMembersList().stream().noneMatch(m -> m.getConsumerId().equals(consumer))
              ? System.nanoTime() : null;
        }, java.util.Objects::nonNull);
    long sinceSentMs = (goneNanos - sentNanos) / 1_000_000;
    long sinceFromMs = (goneNanos - fromNanos) / 1_000_000;
    assertTrue(sinceSentMs >= SESSION_MS - 2, what + ": " + consumer + " expired " + sinceSentMs
        + " ms after its heartbeat, before its session timeout of " + SESSION_MS + " ms");
    assertTrue(sinceFromMs <= SESSION_MS + TICK_MS + ALLOWANCE_MS, what + ": " + consumer + " expired "
        + sinceFromMs + " ms after its last heartbeat, later than " + SESSION_MS + " + " + TICK_MS + " + "
        + ALLOWANCE_MS + " ms");
  }

  private void assertHealthyConsumerKept() {
    assertFalse(healthyCodes.contains(Code.UNKNOWN_MEMBER), "A was expired: " + healthyCodes);
    assertFalse(healthyCodes.contains(Code.FENCED), "A was fenced: " + healthyCodes);
    assertTrue(healthyCodes.stream().filter(c -> c == Code.OK).count() >= 10, "A heartbeated: " + healthyCodes);
    GroupView g = reader.read(describeGroup("g")).getGroup();
    assertEquals(List.of(io.cohort.statemachine.SessionIds.of(healthy.getSessionToken())),
        g.getMembersList().stream().map(m -> m.getSessionId()).toList());
  }
}
