package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.ConsumerState.Action;
import io.cohort.client.ConsumerState.Flush;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.StartFrom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer's protocol logic without a cluster: results in, reader actions out. */
class ConsumerStateTest {
  private static final PartitionId P0 = new PartitionId("t", 0);
  private static final PartitionId P1 = new PartitionId("t", 1);
  private static final PartitionId P2 = new PartitionId("t", 2);

  private ConsumerState state;

  @BeforeEach
  void setUp() {
    state = new ConsumerState("g", "a");
  }

  private static Grant grant(int partition, long epoch, String cursor) {
    Grant.Builder b = Grant.newBuilder().setTopic("t").setPartition(partition).setEpoch(epoch)
        .setStartFrom(StartFrom.BEGIN).setState(PartitionState.ACTIVE);
    if (cursor != null) {
      b.setCursor(cursor);
    }
    return b.build();
  }

  /** A session token as the leader draws it: 16 opaque bytes (here made from a number). */
  static com.google.protobuf.ByteString token(long n) {
    return com.google.protobuf.ByteString.copyFrom(java.nio.ByteBuffer.allocate(16).putLong(8, n).array());
  }

  private static HeartbeatResult.Builder result(long session, Grant... grants) {
    return HeartbeatResult.newBuilder().setSessionToken(token(session)).setNextHeartbeatMs(1000)
        .setSessionTimeoutMs(10_000).addAllGrants(List.of(grants));
  }

  private static PartitionRef ref(int partition) {
    return PartitionRef.newBuilder().setTopic("t").setPartition(partition).build();
  }

  private static Set<PartitionId> held(Flush f) {
    Set<PartitionId> out = new TreeSet<>();
    f.held().forEach(r -> out.add(PartitionId.of(r)));
    return out;
  }

  private static Set<PartitionId> pendingOf(ConsumerState s) {
    Set<PartitionId> out = new TreeSet<>();
    s.parts().forEach((id, p) -> {
      if (p.pending != null) {
        out.add(id);
      }
    });
    return out;
  }

  private List<Action> heartbeat(HeartbeatResult r) {
    Flush f = state.flush();
    List<Code> codes = new ArrayList<>();
    f.entries().forEach(e -> codes.add(Code.OK));
    return state.onHeartbeat(f, r.toBuilder().addAllCommitCodes(codes).build());
  }

  private List<Action> joinWith(Grant... grants) {
    return heartbeat(result(7, grants).build());
  }

  @Test
  void R1_joinStartsAReaderPerGrantFromItsCheckpointAndHoldsThem() {
    Flush join = state.flush();
    assertTrue(join.session().isEmpty());
    List<Action> actions = state.onHeartbeat(join, result(7, grant(0, 5, "10"), grant(1, 6, null)).build());
    assertEquals(List.of(
        new Action.Start(PartitionGrant.of(grant(0, 5, "10")), "10"),
        new Action.Start(PartitionGrant.of(grant(1, 6, null)), null)), actions);
    Flush next = state.flush();
    assertEquals(token(7), next.session());
    assertEquals(Set.of(P0, P1), held(next));
  }

  @Test
  void R3_progressBecomesOnePendingEntryPerPartitionWithTheGrantEpoch() {
    joinWith(grant(0, 5, "10"), grant(1, 6, null));
    state.progress(P0, 5, "12", false, 3L, 40L, 100);
    state.progress(P0, 5, "15", false, 0L, 10L, 200);
    state.progress(P1, 6, "1", false, null, null, 300);
    state.progress(P1, 99, "7", false, null, null, 300); // an old reader's epoch: ignored
    assertEquals(100, state.oldestPendingMs());
    Flush f = state.flush();
    assertEquals(List.of(
        CheckpointEntry.newBuilder().setTopic("t").setPartition(0).setEpoch(5).setCursor("15")
            .setLag(0).setLagMs(10).build(),
        CheckpointEntry.newBuilder().setTopic("t").setPartition(1).setEpoch(6).setCursor("1").build()),
        f.entries());
    assertEquals(Long.MAX_VALUE, state.oldestPendingMs(), "all sent: nothing is due on its own");
    state.progress(P1, 6, "2", false, null, null, 350);
    assertEquals(350, state.oldestPendingMs(), "newer progress is due from when it was recorded");
    state.onCommit(f, List.of(Code.OK, Code.OK));
    assertEquals(Set.of(P1), pendingOf(state));
    state.onCommit(state.flush(), List.of(Code.OK));
    assertFalse(state.hasPending());
    state.progress(P0, 5, "15", false, 0L, 10L, 400); // nothing new since the ack
    assertFalse(state.hasPending());
  }

  @Test
  void R3_anAckOfAnOlderEntryKeepsTheNewerPending() {
    joinWith(grant(0, 5, "10"));
    state.progress(P0, 5, "12", false, null, null, 100);
    Flush f = state.flush();
    state.progress(P0, 5, "20", false, null, null, 150);
    state.onCommit(f, List.of(Code.OK));
    assertEquals("20", state.flush().entries().get(0).getCursor());
  }

  @Test
  void R2_releaseStopsTheReaderAndOnlyThenOmitsThePartitionWithItsFinalCommit() {
    joinWith(grant(0, 5, "10"), grant(1, 6, "0"));
    state.progress(P0, 5, "11", false, null, null, 100);
    List<Action> actions = heartbeat(result(7, grant(0, 5, "11"), grant(1, 6, "0")).addRelease(ref(0)).build());
    assertEquals(List.of(new Action.Stop(PartitionGrant.of(grant(0, 5, "11")), RevokeReason.RELEASED)),
        actions.stream().filter(a -> !(a instanceof Action.Acked)).toList());
    // still reading: the next heartbeat must keep holding it
    assertEquals(Set.of(P0, P1), held(state.flush()));
    assertFalse(state.heartbeatNow());

    state.progress(P0, 5, "13", false, null, null, 200); // the reader's last batch
    state.readerStopped(P0, 5);
    assertTrue(state.heartbeatNow(), "the release goes out at once");
    Flush release = state.flush();
    assertEquals(Set.of(P1), held(release));
    assertEquals(Set.of(P0), release.omitted());
    assertEquals("13", release.entries().get(0).getCursor());
    state.onHeartbeat(release, result(7, grant(1, 6, "0")).addCommitCodes(Code.OK).build());
    assertEquals(Set.of(P1), state.parts().keySet());
  }

  @Test
  void R2_aPausedPartitionThatResumesAndIsReleasedInOneResultIsNotOmittedWhileItsReaderRuns() {
    joinWith(grant(0, 5, "10"));
    state.pauseAll();
    state.readerStopped(P0, 5);
    List<Action> actions = heartbeat(result(7, grant(0, 5, "10")).addRelease(ref(0)).build());
    assertTrue(actions.contains(new Action.Start(PartitionGrant.of(grant(0, 5, "10")), "10")));
    assertTrue(actions.contains(new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.RELEASED)));
    assertEquals(Set.of(P0), held(state.flush()), "never omitted while a reader of it runs");
    state.readerStopped(P0, 5);
    assertEquals(Set.of(P0), state.flush().omitted());
  }

  @Test
  void R3_aNewEpochRestartsThePartitionFromTheResetCursor() {
    joinWith(grant(0, 5, "10"));
    state.progress(P0, 5, "40", false, null, null, 100);
    List<Action> actions = state.onHeartbeat(state.flush(),
        result(7, grant(0, 9, "3")).addCommitCodes(Code.FENCED).build());
    assertEquals(List.of(
        new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.FENCED)), actions.subList(0, 1));
    assertTrue(actions.contains(new Action.Start(PartitionGrant.of(grant(0, 9, "3")), "3")));
    assertNull(state.parts().get(P0).pending, "the old epoch's position is dropped");
    assertEquals(9, state.parts().get(P0).grant.epoch());
  }

  @Test
  void R3_aGrantWithANewEpochWithoutAFencedCommitAlsoRestarts() {
    joinWith(grant(0, 5, "10"));
    List<Action> actions = heartbeat(result(7, grant(0, 9, "3")).build());
    assertEquals(List.of(
        new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.RESET),
        new Action.Start(PartitionGrant.of(grant(0, 9, "3")), "3")), actions);
  }

  @Test
  void R3_aFencedEntryDropsThePartitionAndOlderGrantsOfItAreIgnored() {
    joinWith(grant(0, 5, "10"), grant(1, 6, "0"));
    state.progress(P0, 5, "12", false, null, null, 100);
    Flush f = state.flush();
    List<Action> actions = state.onCommit(f, List.of(Code.FENCED));
    assertEquals(List.of(new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.FENCED)), actions);
    assertEquals(Set.of(P1), held(state.flush()));
    // a result of an older heartbeat still naming epoch 5 does not bring it back
    assertEquals(List.of(), heartbeat(result(7, grant(0, 5, "10"), grant(1, 6, "0")).build()).stream()
        .filter(a -> a instanceof Action.Start).toList());
  }

  @Test
  void aPartitionTheResultNoLongerListsIsDroppedAtOnce() {
    joinWith(grant(0, 5, "10"), grant(1, 6, "0"));
    List<Action> actions = heartbeat(result(7, grant(1, 6, "0")).build());
    assertEquals(List.of(new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.FENCED)), actions);
    assertEquals(Set.of(P1), state.parts().keySet());
  }

  @Test
  void R5_anAcknowledgedFinishedCommitEndsThePartition() {
    Grant sealed = grant(0, 5, "10").toBuilder().setState(PartitionState.SEALED).setEndCursor("20").build();
    joinWith(sealed);
    state.progress(P0, 5, "20", true, 0L, null, 100);
    assertTrue(state.commitNow());
    Flush f = state.flush();
    assertTrue(f.entries().get(0).getFinished());
    List<Action> actions = state.onCommit(f, List.of(Code.OK));
    assertTrue(actions.contains(new Action.Stop(PartitionGrant.of(sealed), RevokeReason.FINISHED)));
    assertTrue(state.parts().isEmpty());
  }

  @Test
  void R7_unknownMemberStopsEverythingAndRejoinsAtOnce() {
    joinWith(grant(0, 5, "10"));
    List<Action> actions = state.onRejected(Code.UNKNOWN_MEMBER);
    assertEquals(List.of(new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.SESSION_LOST)), actions);
    assertTrue(state.session().isEmpty());
    assertTrue(state.heartbeatNow());
    Flush rejoin = state.flush();
    assertTrue(rejoin.session().isEmpty());
    assertTrue(rejoin.held().isEmpty());
  }

  @Test
  void staticMembership_aFencedSessionStopsItsReadersAndKeepsItsCheckpointsAndSessionForTheLeave() {
    joinWith(grant(0, 5, "10"), grant(1, 6, "0"));
    state.progress(P0, 5, "12", false, null, null, 100);
    List<Action> actions = state.onRejected(Code.FENCED);
    assertTrue(actions.contains(new Action.ConsumerFenced()));
    assertTrue(actions.contains(new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.CONSUMER_FENCED)));
    assertTrue(state.fenced());
    assertFalse(state.readersStopped(), "the readers are still stopping");
    state.progress(P0, 5, "13", false, null, null, 200); // the last batch of a stopping reader
    state.readerStopped(P0, 5);
    state.readerStopped(P1, 6);
    assertTrue(state.readersStopped());

    Flush last = state.flush(false, new CommandBudget());
    var leave = state.leave(last);
    assertEquals(token(7), leave.getSessionToken(), "the leave goes with the old (replaced) session");
    assertEquals(List.of("13"), leave.getCommitsList().stream().map(CheckpointEntry::getCursor).toList());
    assertEquals(5, leave.getCommits(0).getEpoch(), "under the old grant's epoch");
  }

  @Test
  void staticMembership_afterFencedAGrantInALateResultIsNeverStarted() {
    joinWith(grant(0, 5, "10"));
    state.onRejected(Code.FENCED);
    List<Action> actions = heartbeat(result(7, grant(0, 5, "10"), grant(1, 6, "0")).build());
    assertTrue(actions.stream().noneMatch(a -> a instanceof Action.Start), actions.toString());
  }

  // ------------------------------------------------------------------ R9: commands under the limits

  private static String cursorOf(int bytes, int i) {
    String n = Integer.toString(i);
    return "x".repeat(bytes - n.length()) + n;
  }

  private static int commandBytes(io.cohort.statemachine.proto.Command c) {
    return c.getSerializedSize();
  }

  @Test
  void R9_tenThousandCommitsWithKilobyteCursorsAreSplitUnderTheByteLimit() {
    Grant[] grants = new Grant[10_000];
    for (int i = 0; i < grants.length; i++) {
      grants[i] = grant(i, 100 + i, null);
    }
    joinWith(grants);
    for (int i = 0; i < grants.length; i++) {
      state.progress(new PartitionId("t", i), 100 + i, cursorOf(1024, i), false, 5L, 7L, i);
    }
    CommandBudget budget = new CommandBudget();
    Set<Integer> sent = new TreeSet<>();
    int commands = 0;
    boolean first = true;
    while (state.hasPending()) {
      Flush f = state.flush(first, budget);
      io.cohort.statemachine.proto.Command c = first
          ? io.cohort.statemachine.proto.Command.newBuilder().setHeartbeat(state.heartbeat(f)).build()
          : io.cohort.statemachine.proto.Command.newBuilder().setCommitCheckpoints(state.commit(f)).build();
      assertTrue(commandBytes(c) <= CommandBudget.DEFAULT_MAX_COMMAND_BYTES - CommandBudget.SLACK_BYTES,
          "command " + commands + " has " + commandBytes(c) + " bytes");
      assertTrue(f.bytes() >= commandBytes(c), "the count is an upper bound: " + f.bytes() + " < " + commandBytes(c));
      assertTrue(f.entries().size() <= CommandBudget.DEFAULT_MAX_ENTRIES);
      assertTrue(f.entries().size() > 0);
      f.entries().forEach(e -> assertTrue(sent.add(e.getPartition()), "sent twice: " + e.getPartition()));
      assertEquals(first ? 10_000 : 0, f.held().size(), "the heartbeat still holds every partition");
      List<Code> ok = new ArrayList<>();
      f.entries().forEach(e -> ok.add(Code.OK));
      state.onCommit(f, ok);
      assertEquals(f.leftOver() > 0, state.commitNow(), "what is left goes at once");
      first = false;
      commands++;
    }
    assertEquals(10_000, sent.size());
    assertTrue(commands >= 10 && commands <= 12, commands + " commands");
  }

  @Test
  void R9_aClusterWithFewerEntriesPerCommandGetsSmallerCommands() {
    Grant[] grants = new Grant[2500];
    for (int i = 0; i < grants.length; i++) {
      grants[i] = grant(i, 1, null);
    }
    joinWith(grants);
    for (int i = 0; i < grants.length; i++) {
      state.progress(new PartitionId("t", i), 1, Integer.toString(i + 1), false, null, null, i);
    }
    CommandBudget budget = new CommandBudget();
    budget.adopt(io.cohort.statemachine.proto.LimitsRecord.newBuilder().setMaxEntriesPerCommand(1000)
        .setMaxCommandBytes(1 << 20).build());
    List<Integer> sizes = new ArrayList<>();
    while (state.hasPending()) {
      Flush f = state.flush(false, budget);
      sizes.add(f.entries().size());
      List<Code> ok = new ArrayList<>();
      f.entries().forEach(e -> ok.add(Code.OK));
      state.onCommit(f, ok);
    }
    assertEquals(List.of(1000, 1000, 500), sizes);
  }

  @Test
  void R9_afterARefusalTheBudgetHalvesAndNeverGrowsBackToTheRefusedSize() {
    CommandBudget budget = new CommandBudget();
    assertTrue(budget.shrinkAfterRefusal(800, 400_000));
    assertEquals(400, budget.maxEntries());
    assertEquals(200_000, budget.maxBytes());
    budget.adopt(io.cohort.statemachine.proto.LimitsRecord.newBuilder().setMaxEntriesPerCommand(10_000)
        .setMaxCommandBytes(1 << 20).build());
    assertEquals(400, budget.maxEntries(), "the cluster's limits do not undo a refusal");
    assertTrue(!budget.shrinkAfterRefusal(1, 2000), "one entry: nothing to split, it is dropped");
  }

  @Test
  void R2_R9_aReleasedPartitionWhoseFinalCheckpointDoesNotFitStaysHeldUntilTheNextHeartbeat() {
    joinWith(grant(0, 5, "10"), grant(1, 6, "0"), grant(2, 7, "0"));
    state.progress(P2, 7, "9", false, null, null, 10); // older, but not a release
    state.progress(P0, 5, "11", false, null, null, 100);
    state.progress(P1, 6, "1", false, null, null, 50);
    heartbeat(result(7, grant(0, 5, "10"), grant(1, 6, "0"), grant(2, 7, "0")).addRelease(ref(0)).addRelease(ref(1))
        .addCommitCodes(Code.OK).addCommitCodes(Code.OK).addCommitCodes(Code.OK).build());
    state.progress(P0, 5, "12", false, null, null, 150); // the readers' last batches
    state.progress(P1, 6, "2", false, null, null, 160);
    state.progress(P2, 7, "10", false, null, null, 5);
    state.readerStopped(P0, 5);
    state.readerStopped(P1, 6);
    CommandBudget one = new CommandBudget();
    one.shrinkAfterRefusal(2, 1 << 20); // one entry per command from now on
    Flush f = state.flush(true, one);
    assertEquals(List.of("12"), f.entries().stream().map(CheckpointEntry::getCursor).toList(),
        "a release's final checkpoint goes before older ones");
    assertEquals(Set.of(P0), f.omitted());
    assertEquals(Set.of(P1, P2), held(f), "P1's final checkpoint did not fit: still held");
    assertTrue(state.heartbeatNow(), "its release goes with the next heartbeat");
    assertTrue(state.commitNow());
  }

  @Test
  void R9_aCheckpointRefusedAsAWholeIsDroppedWithItsWaitersNotRetried() {
    joinWith(grant(0, 5, "10"));
    var ack = state.acknowledge(P0, 5, "x".repeat(5000), 100);
    Flush f = state.flush(false, new CommandBudget());
    List<Action> actions = state.dropEntries(f, Code.LIMIT_EXCEEDED);
    assertTrue(actions.get(0) instanceof Action.Refused r && r.code() == Code.LIMIT_EXCEEDED);
    applySettles(actions);
    assertTrue(ack.isCompletedExceptionally());
    assertFalse(state.hasPending(), "never sent again");
  }

  // ------------------------------------------------------------------ acknowledge-later, commit futures

  private static void applySettles(List<Action> actions) {
    for (Action a : actions) {
      if (a instanceof Action.Settle s) {
        s.waiters().forEach(w -> {
          if (s.error() == null) {
            w.complete(null);
          } else {
            w.completeExceptionally(s.error());
          }
        });
      }
    }
  }

  @Test
  void R3_anAcknowledgedCursorIsCommittedUnderItsGrantsEpochAndItsFutureCompletesOnTheAck() {
    joinWith(grant(0, 5, "10"));
    state.position(P0, 5, "30", false, 4L, 9L); // read further than acknowledged: not a checkpoint
    assertFalse(state.hasPending());
    var ack = state.acknowledge(P0, 5, "20", 100);
    Flush f = state.flush(false, new CommandBudget());
    assertEquals(List.of(CheckpointEntry.newBuilder().setTopic("t").setPartition(0).setEpoch(5).setCursor("20")
        .setLag(4).setLagMs(9).build()), f.entries());
    var later = state.acknowledge(P0, 5, "25", 150); // after the flush: waits for its own entry
    applySettles(state.onCommit(f, List.of(Code.OK)));
    assertTrue(ack.isDone() && !ack.isCompletedExceptionally());
    assertFalse(later.isDone(), "its cursor was not in that commit");
    Flush g = state.flush(false, new CommandBudget());
    applySettles(state.onCommit(g, List.of(Code.OK)));
    assertTrue(later.isDone() && !later.isCompletedExceptionally());
  }

  @Test
  void R3_acknowledgingAGrantThatIsNotHeldFailsFenced() {
    joinWith(grant(0, 5, "10"));
    var stale = state.acknowledge(P0, 4, "20", 100);
    assertTrue(stale.isCompletedExceptionally());
    var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class, stale::get);
    assertEquals(Code.FENCED, ((CohortRejectedException) e.getCause()).code());
  }

  @Test
  void R5_acknowledgingWhereTheReaderSawTheEndCommitsFinished() {
    Grant sealed = grant(0, 5, "10").toBuilder().setState(PartitionState.SEALED).build(); // end cursor unknown
    joinWith(sealed);
    state.position(P0, 5, "17", true, 0L, null);
    state.acknowledge(P0, 5, "15", 100);
    assertFalse(state.flush(false, new CommandBudget()).entries().get(0).getFinished());
    state.acknowledge(P0, 5, "17", 200);
    assertTrue(state.commitNow());
    assertTrue(state.flush(false, new CommandBudget()).entries().get(0).getFinished());
  }

  @Test
  void commitAllWaitsForEveryPendingCheckpointAndFailsWhenOneIsFenced() {
    joinWith(grant(0, 5, "10"), grant(1, 6, "0"));
    state.progress(P0, 5, "12", false, null, null, 100);
    state.progress(P1, 6, "3", false, null, null, 100);
    var all = state.commitAll();
    assertTrue(state.commitNow());
    Flush f = state.flush(false, new CommandBudget());
    applySettles(state.onCommit(f, List.of(Code.OK, Code.FENCED)));
    assertTrue(all.isCompletedExceptionally());
    assertTrue(state.commitAll().isDone(), "nothing pending: done at once");
  }

  @Test
  void aCommandWithoutAnAnswerFailsItsWaitersAndKeepsItsEntriesForLater() {
    joinWith(grant(0, 5, "10"));
    var ack = state.acknowledge(P0, 5, "20", 100);
    Flush f = state.flush(false, new CommandBudget());
    applySettles(state.onFailed(f, new CohortUnavailableException("down", null)));
    assertTrue(ack.isCompletedExceptionally());
    assertTrue(state.hasPending(), "sent again with the next flush");
    assertEquals("20", state.flush(false, new CommandBudget()).entries().get(0).getCursor());
  }

  @Test
  void sessionAtRisk_pausesReadersAndResumesFromTheLastPositionIfStillHeld() {
    joinWith(grant(0, 5, "10"));
    state.progress(P0, 5, "17", false, null, null, 100);
    assertEquals(List.of(new Action.Stop(PartitionGrant.of(grant(0, 5, "10")), RevokeReason.SESSION_AT_RISK)),
        state.pauseAll());
    state.readerStopped(P0, 5);
    assertEquals(Set.of(P0), held(state.flush()), "paused partitions stay held");
    List<Action> actions = state.onHeartbeat(state.flush(), result(7, grant(0, 5, "10")).addCommitCodes(Code.OK).build());
    assertEquals(List.of(new Action.Acked(P0, CheckpointEntry.newBuilder().setTopic("t").setPartition(0)
        .setEpoch(5).setCursor("17").build()), new Action.Start(PartitionGrant.of(grant(0, 5, "10")), "17")), actions);
  }

  @Test
  void aNewGrantThatMustBeReleasedAtOnceIsHandedOverWithoutReading() {
    joinWith(grant(1, 6, "0"));
    List<Action> actions = heartbeat(result(7, grant(0, 5, "10"), grant(1, 6, "0")).addRelease(ref(0)).build());
    assertTrue(actions.stream().noneMatch(a -> a instanceof Action.Start));
    assertTrue(state.heartbeatNow());
    assertEquals(Set.of(P0), state.flush().omitted());
  }

  @Test
  void R2_anAnswerThatCameTooLateStartsNoReaderUntilAFreshOneConfirmsTheGrant() {
    Flush join = state.flush();
    List<Action> late = state.onHeartbeat(join, result(7, grant(0, 3, "5")).build(), false);
    assertTrue(late.stream().noneMatch(a -> a instanceof Action.Start), "a stale answer starts nothing: " + late);
    assertEquals(0, state.liveReaders(P0));

    Flush next = state.flush();
    assertEquals(Set.of(P0), held(next), "the grant is still held, so the coordinator can keep it ours");
    List<Action> fresh = state.onHeartbeat(next, result(7, grant(0, 3, "5")).build(), true);
    Action.Start start = (Action.Start) fresh.stream().filter(a -> a instanceof Action.Start).findFirst()
        .orElseThrow();
    assertEquals(P0, start.grant().id());
    assertEquals("5", start.cursor());
  }

  @Test
  void aReaderErrorRidesOnTheNextHeartbeatCutTo256BytesAndProgressDropsItUnsent() {
    joinWith(grant(0, 3, "5"), grant(1, 3, "0"));
    state.failed(P0, 3, "5", "\u00e9".repeat(200), 2, false); // 400 bytes of UTF-8
    Flush f = state.flush();
    assertEquals(1, f.errors().size());
    assertEquals(256, f.errors().get(0).getMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    assertEquals(3, f.errors().get(0).getEpoch());
    assertEquals("5", f.errors().get(0).getCursor());
    assertEquals(f.errors(), state.heartbeat(f).getErrorsList());
    state.onHeartbeat(f, result(7, grant(0, 3, "5"), grant(1, 3, "0")).build());
    assertEquals(List.of(), state.flush().errors(), "reported once");

    state.failed(P1, 3, "0", "flaky", 1, false);
    state.progress(P1, 3, "4", false, 0L, null, 0);
    assertEquals(List.of(), state.flush().errors(), "the batch went through before the report left: stale");
    state.failed(P1, 3, "4", "poison", 3, true);
    state.progress(P1, 3, "9", false, 0L, null, 0);
    assertEquals(1, state.flush().errors().size(), "a skip is news even after the reader moved on");
  }

  @Test
  void aPartitionThePoisonPolicyStoppedIsReleasedAndHeldWithoutAReaderWhenItComesBackThere() {
    joinWith(grant(0, 3, "5"));
    state.poisoned(P0, 3, "5");
    state.readerStopped(P0, 3);
    assertTrue(state.heartbeatNow());
    Flush release = state.flush();
    assertEquals(Set.of(), held(release), "let go");
    List<Action> back = state.onHeartbeat(release, result(7, grant(0, 9, "5")).build());
    assertTrue(back.stream().noneMatch(a -> a instanceof Action.Start), "back at the poison: not read");
    assertEquals(Set.of(P0), state.parked());
    assertEquals(Set.of(P0), held(state.flush()), "but held");
    assertTrue(state.pauseAll().isEmpty(), "nothing to pause");
    List<Action> reset = state.onHeartbeat(state.flush(), result(7, grant(0, 12, "6")).build());
    assertTrue(reset.stream().anyMatch(a -> a instanceof Action.Start s && "6".equals(s.cursor())),
        "moved past it: read again");
    assertEquals(Set.of(), state.parked());
  }
}
