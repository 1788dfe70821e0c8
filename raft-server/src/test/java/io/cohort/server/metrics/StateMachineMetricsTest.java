package io.cohort.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.CohortStateMachine;
import io.cohort.server.Messages;
import io.cohort.server.ServerClock;
import io.cohort.server.health.Readiness;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetLimits;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.junit.jupiter.api.Test;

/** The metrics a state machine feeds, driven through its Ratis callbacks without servers. */
class StateMachineMetricsTest {
  private static final long STALL_AFTER_MS = 30_000;

  private NodeMetrics metrics;
  private CohortStateMachine sm;
  private long index;

  private void node(MetricsSettings settings) {
    metrics = new NodeMetrics(settings);
    sm = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS, ServerClock.SYSTEM, metrics.events(),
        metrics.events());
    metrics.registerCollectors("n1", () -> null, sm, new Readiness(() -> null, sm, 1000));
  }

  private void node() {
    node(MetricsSettings.OFF.withStallAfterMs(STALL_AFTER_MS));
  }

  /** As a follower (or a replaying node) applies a log entry stamped {@code timeMs}. */
  private Result apply(Command c, long timeMs) throws Exception {
    LogEntry.Builder logged = LogEntry.newBuilder().setTimeMs(timeMs).setCommand(c.toByteString());
    if (c.hasHeartbeat() && c.getHeartbeat().getSessionToken().isEmpty()) {
      // a join: the leader stamps a random session token (R11); any 16 bytes unique per entry do here
      logged.setSessionToken(com.google.protobuf.ByteString.copyFrom(java.nio.ByteBuffer.allocate(16).putLong(index + 1).array()));
    }
    byte[] data = logged.build().toByteArray();
    LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(++index)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder().setLogData(Messages.wrap(data))).build();
    TransactionContext trx = TransactionContext.newBuilder().setStateMachine(sm).setLogEntry(entry).build();
    return Result.parseFrom(Messages.bytes(sm.applyTransaction(trx).get()));
  }

  private Samples scrape() {
    return Samples.of(metrics.registry());
  }

  private static List<Grant> grants(Result heartbeat) {
    return heartbeat.getHeartbeat().getGrantsList();
  }

  private static Grant grant(List<Grant> grants, int partition) {
    return grants.stream().filter(g -> g.getPartition() == partition).findFirst().orElseThrow();
  }

  @Test
  void slowQuietAnswersAreCountedByWhatTheyWaitedBehind() {
    node();
    metrics.events().quietHeartbeatWaitedLong(Command.BodyCase.TICK);
    metrics.events().quietHeartbeatWaitedLong(Command.BodyCase.TICK);
    metrics.events().quietHeartbeatWaitedLong(null);
    Samples s = scrape();
    assertEquals(2, s.value("cohort_quiet_heartbeats_slow", "behind", "tick"));
    assertEquals(1, s.value("cohort_quiet_heartbeats_slow", "behind", "unknown"));
  }

  @Test
  void appliedCommandsAreCountedByCommandAndCode_commitEntriesByEntryCode() throws Exception {
    node();
    apply(Cmd.topic("t", 2), 1000);
    apply(Cmd.group("g", "t", 10_000), 1000);
    Result joined = apply(Cmd.join("g", "A"), 1000);
    com.google.protobuf.ByteString session = joined.getHeartbeat().getSessionToken();
    Grant p0 = grant(grants(joined), 0);
    Grant stale = p0.toBuilder().setEpoch(p0.getEpoch() - 1).build();
    Result commit = apply(Cmd.commit("g", "A", session, List.of(Cmd.entry(p0, "10", 0, 0), Cmd.entry(stale, "11", 0, 0))),
        2000);
    assertEquals(List.of(Code.OK, Code.FENCED), commit.getCommit().getCodesList());
    apply(Cmd.heartbeat("g", "A", session, grants(joined), List.of(Cmd.entry(p0, "12", 0, 0))), 3000);
    Result fenced = apply(Cmd.heartbeat("g", "A", com.google.protobuf.ByteString.copyFrom(new byte[16]), grants(joined), List.of()), 3000);
    assertEquals(Code.FENCED, fenced.getCode());
    apply(Cmd.topic("t", 2), 3000); // ALREADY_EXISTS

    Samples s = scrape();
    assertEquals(2, s.value("cohort_commands_applied", "command", "heartbeat", "code", "OK"));
    assertEquals(1, s.value("cohort_commands_applied", "command", "heartbeat", "code", "FENCED"));
    assertEquals(1, s.value("cohort_commands_applied", "command", "commit_checkpoints", "code", "OK"));
    assertEquals(1, s.value("cohort_commands_applied", "command", "create_topic", "code", "OK"));
    assertEquals(2, s.value("cohort_commit_entries", "code", "OK"), "one in the commit, one in the heartbeat");
    assertEquals(1, s.value("cohort_commit_entries", "code", "FENCED"));
    assertEquals(1, s.value("cohort_commands_rejected", "stage", "apply", "command", "heartbeat", "code", "FENCED"));
    assertEquals(1, s.value("cohort_commands_rejected", "stage", "apply", "command", "create_topic",
        "code", "ALREADY_EXISTS"));
    assertFalse(s.has("cohort_commands_rejected", "stage", "admission"));
  }

  @Test
  void admissionRefusalsAreCountedByTheLeaderThatRefused() throws Exception {
    node();
    byte[] oversized = Cmd.topic("t".repeat(Limits.DEFAULTS.maxCommandBytes()), 1).toByteArray();
    byte[] tooLargeLimit = Command.newBuilder().setSetLimits(SetLimits.newBuilder()
        .setLimits(LimitsRecord.newBuilder().setMaxCommandBytes(Integer.MAX_VALUE))).build().toByteArray();
    for (byte[] bad : new byte[][] {{(byte) 0xff}, oversized, tooLargeLimit}) {
      RaftClientRequest req = RaftClientRequest.newBuilder().setClientId(ClientId.randomId())
          .setServerId(RaftPeerId.valueOf("n1")).setGroupId(io.cohort.client.CohortGroup.ID).setCallId(1)
          .setMessage(org.apache.ratis.protocol.Message.valueOf(io.cohort.server.Envelopes.internal(bad)))
          .setType(RaftClientRequest.writeRequestType()).build();
      assertNotNull(sm.startTransaction(req).getException());
    }
    Samples s = scrape();
    assertEquals(1, s.value("cohort_commands_rejected", "stage", "admission", "command", "unknown",
        "code", "INVALID_ARGUMENT"), "bytes that do not decode");
    assertEquals(1, s.value("cohort_commands_rejected", "stage", "admission", "command", "unknown",
        "code", "LIMIT_EXCEEDED"), "too large to parse");
    assertEquals(1, s.value("cohort_commands_rejected", "stage", "admission", "command", "set_limits",
        "code", "INVALID_ARGUMENT"));
    assertFalse(s.has("cohort_commands_applied"), "nothing reached the log");
  }

  @Test
  void R7_expirationsAreCountedPerGroup() throws Exception {
    node();
    apply(Cmd.topic("t", 1), 1000);
    apply(Cmd.group("g", "t", 10_000), 1000);
    apply(Cmd.join("g", "A"), 1000);
    apply(Cmd.join("g", "B"), 1000);
    Result tick = apply(Cmd.tick(), 20_000);
    assertEquals(2, tick.getTick().getExpiredCount());
    assertEquals(2, scrape().value("cohort_member_expirations", "group", "g"));
  }

  @Test
  void stalled_holderHeartbeatsButHasNotCommittedForStallAfterMsWhileBehind_staleWithoutHolder() throws Exception {
    node();
    apply(Cmd.topic("t", 3), 1000);
    apply(Cmd.group("g", "t", 10_000), 1000);
    Result joined = apply(Cmd.join("g", "A"), 1000);
    com.google.protobuf.ByteString session = joined.getHeartbeat().getSessionToken();
    List<Grant> held = grants(joined);
    assertEquals(3, held.size());
    apply(Cmd.commit("g", "A", session, List.of(Cmd.entry(grant(held, 0), "5", 5, 700),
        Cmd.entry(grant(held, 1), "9", 0, 0))), 2000);

    apply(Cmd.heartbeat("g", "A", session, held, List.of()), 12_000);
    Samples early = scrape(); // 10 s after the commit: not yet stalled
    assertEquals(0, early.value("cohort_partition_stalled", "partition", "0"));
    assertEquals(10, early.value("cohort_partition_checkpoint_age_seconds", "partition", "0"));

    apply(Cmd.heartbeat("g", "A", session, held, List.of()), 32_000);
    Samples s = scrape();
    assertEquals(1, s.value("cohort_partition_stalled", "group", "g", "topic", "t", "partition", "0"));
    assertEquals(0, s.value("cohort_partition_stalled", "partition", "1"), "caught up: lag 0 is not stalled");
    assertEquals(0, s.value("cohort_partition_stalled", "partition", "2"), "never committed: lag unknown");
    assertEquals(30, s.value("cohort_partition_checkpoint_age_seconds", "partition", "0"));
    assertEquals(0, s.value("cohort_partition_holder_heartbeat_age_seconds", "partition", "0"));
    assertEquals(5, s.value("cohort_partition_lag_records", "partition", "0"));
    assertEquals(0.7, s.value("cohort_partition_lag_seconds", "partition", "0"), 1e-9);
    assertEquals(0, s.value("cohort_partition_lag_stale", "partition", "0"));
    assertFalse(s.has("cohort_partition_lag_records", "partition", "2"));
    assertEquals(3, s.value("cohort_partitions", "group", "g", "status", "HELD"));
    assertEquals(1, s.value("cohort_members", "group", "g"));
    assertEquals(32, s.value("cohort_state_time_seconds"));

    // A holder that stopped heartbeating is not "stalled": its heartbeat age says it is going away.
    apply(Cmd.topic("u", 1), 43_000);
    Samples silent = scrape();
    assertEquals(11, silent.value("cohort_partition_holder_heartbeat_age_seconds", "partition", "0"));
    assertEquals(0, silent.value("cohort_partition_stalled", "partition", "0"));

    apply(Cmd.leave("g", "A", session), 43_000);
    Samples left = scrape();
    assertEquals(1, left.value("cohort_partition_lag_stale", "partition", "0"), "no holder: the lag is frozen");
    assertEquals(5, left.value("cohort_partition_lag_records", "partition", "0"));
    assertFalse(left.has("cohort_partition_stalled", "partition", "0"));
    assertFalse(left.has("cohort_partition_holder_heartbeat_age_seconds", "partition", "0"));
    assertEquals(3, left.value("cohort_partitions", "group", "g", "status", "UNASSIGNED"));
    assertEquals(0, left.value("cohort_partitions", "group", "g", "status", "HELD"));
  }

  @Test
  void theSeriesCapDropsPartitionsBeyondIt_andCountsThem() throws Exception {
    node(MetricsSettings.OFF.withMaxSeriesPerMetric(2));
    apply(Cmd.topic("t", 5), 1000);
    apply(Cmd.group("g", "t", 10_000), 1000);
    apply(Cmd.join("g", "A"), 1000);
    Samples first = scrape();
    assertEquals(2, first.series("cohort_partition_holder_heartbeat_age_seconds").size());
    assertEquals(3, first.value("cohort_metrics_partitions_omitted"));
    assertEquals(3, first.value("cohort_metrics_series_dropped"));
    assertEquals(5, first.value("cohort_partitions", "status", "HELD"), "counts are never capped");
    assertEquals(6, scrape().value("cohort_metrics_series_dropped"));
  }

  @Test
  void R2_grantsAndHandoffsAreTimedAsTheAssignorMakesThem() throws Exception {
    node();
    apply(Cmd.topic("t", 2), 1000);
    apply(Cmd.group("g", "t", 10_000), 1000);
    Result a = apply(Cmd.join("g", "A"), 1000);
    com.google.protobuf.ByteString session = a.getHeartbeat().getSessionToken();
    assertEquals(2, scrape().value("cohort_grants", "group", "g"));
    assertEquals(0, scrape().value("cohort_handoff_duration_seconds"), "fresh grants are no handoff");
    apply(Cmd.join("g", "B"), 2000); // one of A's partitions is to move to B
    Result told = apply(Cmd.heartbeat("g", "A", session, grants(a), List.of()), 2500);
    assertEquals(1, told.getHeartbeat().getReleaseCount());
    apply(Cmd.heartbeat("g", "A", session, told.getHeartbeat().getGrantsList().stream()
        .filter(g -> !g.getTopic().equals(told.getHeartbeat().getRelease(0).getTopic())
            || g.getPartition() != told.getHeartbeat().getRelease(0).getPartition()).toList(), List.of()), 3000);
    Samples s = scrape();
    assertEquals(3, s.value("cohort_grants", "group", "g"));
    assertEquals(1, s.value("cohort_handoff_duration_seconds"));
    assertEquals(1.0, s.histogramSum("cohort_handoff_duration_seconds"), 1e-9, "asked at 2000, granted at 3000");
  }

  @Test
  void aFailingReaderShowsFailingThenStalled_theSameAsGroupDescribe() throws Exception {
    node(MetricsSettings.OFF.withStallAfterMs(5_000));
    sm.judgeStallsAfter(5_000); // as CohortServer does with --stall-after-ms
    apply(Cmd.topic("t", 2), 1000);
    apply(Cmd.group("g", "t", 10_000), 1000);
    Result a = apply(Cmd.join("g", "A"), 1000);
    com.google.protobuf.ByteString session = a.getHeartbeat().getSessionToken();
    apply(Cmd.heartbeat("g", "A", session, grants(a), List.of(),
        List.of(Cmd.error(grant(grants(a), 1), "poison", 1))), 2000);
    Samples failing = scrape();
    assertEquals(1, failing.value("cohort_partition_reader_failing", "partition", "1"));
    assertEquals(0, failing.value("cohort_partition_stalled", "partition", "1"));
    apply(Cmd.heartbeat("g", "A", session, grants(a), List.of(),
        List.of(Cmd.error(grant(grants(a), 1), "poison", 9))), 7000);
    Samples stalled = scrape();
    assertEquals(1, stalled.value("cohort_partition_stalled", "partition", "1"), "failing since 2000");
    assertEquals(0, stalled.value("cohort_partition_stalled", "partition", "0"));
    GroupView described = sm.localQuery(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder()
        .setGroup("g")).build()).getGroup();
    for (GroupPartitionView p : described.getPartitionsList()) {
      String partition = Integer.toString(p.getPartition());
      assertEquals(stalled.value("cohort_partition_stalled", "partition", partition),
          p.getHealth().getStalled() ? 1 : 0, "describe agrees on " + partition);
      assertEquals(5_000, p.getHealth().getStallAfterMs(), "the node's threshold by default");
    }
    assertEquals("poison", described.getPartitions(1).getHealth().getLastError().getMessage());
    assertEquals(9, described.getPartitions(1).getHealth().getLastError().getAttempts());
  }

  @Test
  void coordinatorEventsReachTheMetrics() throws Exception {
    node();
    assertSame(metrics.events(), sm.coordinatorEvents(), "the state machine registers the observer");
    sm.coordinatorEvents().granted("g", "t", 0, "A", 7, 1500);
    sm.coordinatorEvents().granted("g", "t", 1, "A", 8, -1);
    sm.coordinatorEvents().releaseTimedOut("g", "t", 0, "B", 6);
    Samples s = scrape();
    assertEquals(2, s.value("cohort_grants", "group", "g"));
    assertEquals(1, s.value("cohort_handoff_duration_seconds"), "a grant of a free partition is no handoff");
    assertEquals(1.5, s.histogramSum("cohort_handoff_duration_seconds"), 1e-9);
    assertEquals(1, s.value("cohort_release_timeouts", "group", "g"));
  }

  @Test
  void snapshotsAreTimed() throws Exception {
    node();
    metrics.events().snapshotPaused(2_500);
    metrics.events().snapshotWritten(1_200, 4096, 77);
    Samples s = scrape();
    assertEquals(1, s.value("cohort_snapshot_pause_seconds"));
    assertEquals(0.0025, s.histogramSum("cohort_snapshot_pause_seconds"), 1e-12);
    assertEquals(1.2, s.histogramSum("cohort_snapshot_write_seconds"), 1e-12);
    assertEquals(4096, s.value("cohort_snapshot_size_bytes"));
    assertEquals(77, s.value("cohort_snapshot_index"));
    assertTrue(s.has("cohort_raft_log_failed"));
  }
}
