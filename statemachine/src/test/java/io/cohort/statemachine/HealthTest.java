package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.entry;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.ListCheckpoints;
import io.cohort.statemachine.proto.PartitionHealth;
import io.cohort.statemachine.proto.Query;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Step 9: stalled, stale lag and failing readers, as describe, checkpoint list and metrics judge them. */
class HealthTest {
  static final long STALL_MS = 30_000;
  private final CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2).withGroup("g", "t")
      .withMember("g", "A");

  private static CheckpointEntry lagging(CheckpointEntry e, long lag) {
    return e.toBuilder().setLag(lag).build();
  }

  private long epoch(int partition) {
    return ctx.grant("g", "A", "t", partition).getEpoch();
  }

  private PartitionHealth health(int partition) {
    return ctx.partition("g", "t", partition).getHealth();
  }

  @Test
  void aLiveHolderBehindWithoutACommitForTheThresholdIsStalledAndNotBefore() {
    ctx.heartbeat("g", "A", lagging(entry("t", 0, epoch(0), "10"), 5));
    ctx.advanceMs(STALL_MS - 1);
    ctx.heartbeat("g", "A"); // heartbeats, commits nothing
    assertFalse(health(0).getStalled());
    assertEquals(STALL_MS - 1, health(0).getCheckpointAgeMs());
    ctx.advanceMs(1);
    ctx.heartbeat("g", "A");
    assertTrue(health(0).getStalled());
    assertFalse(health(0).getLagStale());
    ctx.heartbeat("g", "A", lagging(entry("t", 0, epoch(0), "11"), 4));
    assertFalse(health(0).getStalled(), "a commit is progress");
  }

  @Test
  void aCaughtUpIdleReaderIsNeverStalled() {
    ctx.heartbeat("g", "A", entry("t", 0, epoch(0), "10").toBuilder().setLag(0).setLagMs(3).build());
    ctx.advanceMs(10 * STALL_MS);
    ctx.heartbeat("g", "A");
    assertFalse(health(0).getStalled(), "lag 0: nothing to read, nothing to commit");
  }

  @Test
  void aLagFromAHolderThatIsGoneOrSilentIsStale() {
    ctx.heartbeat("g", "A", lagging(entry("t", 0, epoch(0), "10"), 5));
    ctx.advanceMs(10_000); // the session timeout: A is silent, not yet expired
    ok(ctx.tick());
    assertTrue(ctx.partition("g", "t", 0).hasHolder());
    assertTrue(health(0).getLagStale());
    assertFalse(health(0).getStalled(), "a silent holder is not stalled, its lag is stale");
    ctx.advanceMs(1);
    ok(ctx.tick());
    GroupPartitionView p = ctx.partition("g", "t", 0);
    assertFalse(p.hasHolder());
    assertTrue(p.getHealth().getLagStale());
    assertFalse(health(1).getLagStale(), "no lag known: nothing to call stale");
  }

  @Test
  void aReaderFailingOnItsFirstBatchIsFailingAndStalledAfterTheThreshold() {
    ctx.reportError("g", "A", "t", 1, "poison at 0", false);
    long first = ctx.nowMs;
    PartitionHealth h = health(1);
    assertTrue(h.getFailing());
    assertFalse(h.getStalled());
    assertEquals("poison at 0", h.getLastError().getMessage());
    assertEquals("A", h.getLastError().getReportedBy());
    ctx.advanceMs(STALL_MS);
    ctx.reportError("g", "A", "t", 1, "poison at 0 again", false);
    h = health(1);
    assertTrue(h.getStalled(), "no checkpoint, failing since its first report");
    assertEquals(first, h.getLastError().getFirstAtMs(), "one run of failures");
    assertEquals(ctx.nowMs, h.getLastError().getLastAtMs());
  }

  @Test
  void aCommitAfterTheFailureClearsItButASkippedBatchStaysReported() {
    ctx.reportError("g", "A", "t", 0, "flaky", false);
    ctx.heartbeat("g", "A", entry("t", 0, epoch(0), "5"));
    assertFalse(health(0).hasLastError(), "got past it");
    ctx.heartbeatReporting("g", "A", List.of(CoordinatorTestContext.error("t", 0, epoch(0), "poison", 3, true)),
        entry("t", 0, epoch(0), "9")); // skipped: committed past the batch and reported it at once
    PartitionHealth h = health(0);
    assertFalse(h.getFailing());
    assertTrue(h.getLastError().getSkipped());
    ctx.heartbeat("g", "A", entry("t", 0, epoch(0), "12"));
    assertTrue(health(0).getLastError().getSkipped(), "a skipped batch is history the operator should see");
  }

  @Test
  void R3_anErrorForAGrantNotHeldIsFencedAndChangesNothing() {
    var hb = ctx.heartbeatReporting("g", "A", List.of(CoordinatorTestContext.error("t", 0, epoch(0) + 1000, "x", 1, false),
        CoordinatorTestContext.error("t", 7, 1, "x", 1, false)));
    assertEquals(List.of(Code.FENCED, Code.NOT_FOUND), hb.getErrorCodesList());
    assertFalse(health(0).hasLastError());
  }

  @Test
  void anAdminResetClearsTheError() {
    ctx.reportError("g", "A", "t", 0, "poison", false);
    ok(ctx.reset("g", "t", 0, "100"));
    assertFalse(health(0).hasLastError());
  }

  @Test
  void describeCheckpointListAndMetricsGiveTheSameVerdicts() {
    ctx.heartbeat("g", "A", lagging(entry("t", 0, epoch(0), "10"), 5), lagging(entry("t", 1, epoch(1), "3"), 0));
    ctx.reportError("g", "A", "t", 1, "poison", false);
    ctx.advanceMs(20_000);
    ctx.heartbeat("g", "A");
    for (long stallAfter : new long[] {1, 19_999, 20_000, 20_001, STALL_MS}) {
      assertSameVerdicts(stallAfter);
    }
    ctx.advanceMs(10_000);
    ok(ctx.tick()); // A expires: stale lags
    assertSameVerdicts(STALL_MS);
  }

  private void assertSameVerdicts(long stallAfterMs) {
    List<GroupPartitionView> described = ctx.coordinator.query(Query.newBuilder().setDescribeGroup(
        DescribeGroupQuery.newBuilder().setGroup("g").setStallAfterMs(stallAfterMs)).build(), Principals.INTERNAL).getGroup()
        .getPartitionsList();
    List<CheckpointView> listed = ctx.coordinator.query(Query.newBuilder().setListCheckpoints(
        ListCheckpoints.newBuilder().setGroup("g").setStallAfterMs(stallAfterMs)).build(), Principals.INTERNAL).getCheckpoints()
        .getCheckpointsList();
    MetricsView.Summary m = ctx.coordinator.metricsView(100, stallAfterMs);
    assertEquals(stallAfterMs, m.stallAfterMs());
    for (MetricsView.PartitionSample s : m.partitions()) {
      PartitionHealth d = described.get(s.partition()).getHealth();
      PartitionHealth l = listed.stream().filter(c -> c.getPartition() == s.partition()).findFirst().orElseThrow()
          .getHealth();
      assertEquals(d, l, "describe and checkpoint list");
      Health.Verdict v = s.health();
      String at = "t/" + s.partition() + " stall after " + stallAfterMs;
      assertEquals(d.getStalled(), v.stalled(), at);
      assertEquals(d.getLagStale(), v.lagStale(), at);
      assertEquals(d.getFailing(), v.failing(), at);
      assertEquals(d.hasCheckpointAgeMs() ? d.getCheckpointAgeMs() : -1, v.checkpointAgeMs(), at);
      assertEquals(d.hasHolderHeartbeatAgeMs() ? d.getHolderHeartbeatAgeMs() : -1, v.holderHeartbeatAgeMs(), at);
    }
    assertEquals(2, m.partitions().size());
  }

  @Test
  void R8_aThresholdOfZeroIsRefused() {
    var r = ctx.coordinator.query(Query.newBuilder().setDescribeGroup(
        DescribeGroupQuery.newBuilder().setGroup("g").setStallAfterMs(0)).build(), Principals.INTERNAL);
    assertEquals(Code.INVALID_ARGUMENT, r.getCode());
  }

  @Test
  void R5_aPartitionReadToItsEndIsNeitherStaleNorStalled() {
    ok(ctx.split("t", 0));
    ctx.settle("g");
    ok(ctx.commit("g", "A", CoordinatorTestContext.finished("t", 0, epoch(0), "end").toBuilder().setLag(0).build()));
    ctx.advanceMs(STALL_MS);
    ctx.heartbeat("g", "A");
    GroupPartitionView p = ctx.partition("g", "t", 0);
    assertFalse(p.hasHolder());
    assertFalse(p.getHealth().getLagStale(), "its lag of 0 is final, not frozen");
    assertFalse(p.getHealth().getStalled());
  }
}
