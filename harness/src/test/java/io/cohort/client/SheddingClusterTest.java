package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overload without collapse (step 11) on three in-JVM servers: with the shedding bound at 0, every
 * heartbeat that arrives while another write is in flight is shed with RETRY_LATER. Under bursts of
 * other writes the consumers are shed again and again, yet none rejoins, none expires, and every
 * partition stays with the consumer that had it; and the shed heartbeats renewed their members (step
 * 11). Quiet heartbeats are off here: they are reads, never shed, and these consumers commit nothing.
 */
class SheddingClusterTest {
  @TempDir
  Path dir;

  @Test
  void shedding_consumersShedUnderLoadKeepTheirSessionsAndPartitions() throws Exception {
    try (ClusterFixture fx = new ClusterFixture(dir)) {
      fx.admin.blocking().createTopic("s", 6);
      fx.createGroup("g-s", "s", false, 10_000, 300);
      AtomicLong shed = new AtomicLong();
      ConsumerMetrics counting = new ConsumerMetrics() {
        @Override
        public void failed(PartitionId partition, String kind) {
          if (kind.equals("shed")) {
            shed.incrementAndGet();
          }
        }
      };
      List<GroupConsumer<InMemoryLog.Record>> cs = new ArrayList<>();
      for (String id : List.of("a", "b", "c")) {
        cs.add(fx.consumer(ConsumerConfig.builder("g-s", id).commitIntervalMs(200).pollWaitMs(50)
            .metricsRecorder(counting).quietHeartbeats(false).build(), fx.recorder(id)));
      }
      fx.awaitBalanced("g-s", cs);
      List<ByteString> sessions = cs.stream().map(GroupConsumer::session).toList();
      var before = ClusterFixture.holders(fx.describe("g-s"));
      for (String id : fx.cluster.running()) {
        fx.cluster.server(id).stateMachine().shedHeartbeatsAbove(0);
      }

      // 6 bursts of other writes (4 in flight, each refused by apply: an unknown member's commit),
      // 0.5 s each with 1 s between: heartbeats are shed during the bursts, get through in between
      Command other = Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup("g-s")
          .setConsumerId("nobody").setSessionToken(ByteString.copyFrom(new byte[16]))).build();
      Semaphore inFlight = new Semaphore(4);
      long sent = 0;
      for (int burst = 0; burst < 6; burst++) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() < end && sent < 200_000) {
          if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            continue;
          }
          sent++;
          CompletableFuture<?> f = fx.admin.execute(other);
          f.whenComplete((r, e) -> inFlight.release());
        }
        inFlight.acquire(4);
        inFlight.release(4);
        await().pollDelay(Duration.ofMillis(1_000)).atMost(Duration.ofSeconds(5)).until(() -> true);
      }
      long renewedByShedding = 0;
      for (String id : fx.cluster.running()) {
        fx.cluster.server(id).stateMachine().shedHeartbeatsAbove(1_024);
        renewedByShedding += fx.cluster.server(id).stateMachine().shedHeartbeatsRenewed();
      }
      // a session timeout later, an expiry during the load would show
      await().pollDelay(Duration.ofMillis(10_500)).atMost(Duration.ofSeconds(15)).until(() -> true);

      assertTrue(shed.get() > 0, "the load made the leader shed heartbeats (" + sent + " other writes)");
      assertTrue(renewedByShedding > 0, "shed heartbeats renewed their members: " + renewedByShedding);
      assertEquals(sessions, cs.stream().map(GroupConsumer::session).toList(), "no consumer joined again");
      cs.forEach(c -> assertEquals(GroupConsumer.Status.ACTIVE, c.status()));
      await("still balanced as before").atMost(Duration.ofSeconds(30))
          .until(() -> ClusterFixture.isBalanced(fx.describe("g-s"), cs));
      assertEquals(before, ClusterFixture.holders(fx.describe("g-s")), "no partition moved: nobody expired");
      System.out.printf("shedding: %d other writes, %d heartbeats shed, no rejoin, no expiry%n", sent, shed.get());
    }
  }
}
