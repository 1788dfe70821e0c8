package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.entry;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.DescribeTopicQuery;
import io.cohort.statemachine.proto.TopicView;
import com.google.protobuf.ByteString;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** One test (or a few) per rule of DESIGN.md section 2, named after it. */
class RulesTest {

  static CoordinatorTestContext twoConsumersOnFourPartitions() {
    return new CoordinatorTestContext().withTopic("t", 4).withGroup("g", "t")
        .withMember("g", "A").withMember("g", "B");
  }

  @Nested
  class R1_Heartbeat {
    @Test
    void R1_joinIssuesASessionAndGrantsWithStartPositions() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2).withGroup("g", "t");
      HeartbeatResult hb = ctx.heartbeat("g", "A");
      assertEquals(Stamp.TOKEN_BYTES, hb.getSessionToken().size());
      assertEquals(2, hb.getGrantsCount());
      for (Grant g : hb.getGrantsList()) {
        assertFalse(g.hasCursor(), "no checkpoint yet");
        assertEquals(StartFrom.BEGIN, g.getStartFrom());
        assertEquals(PartitionState.ACTIVE, g.getState());
      }
      assertEquals(1000, hb.getNextHeartbeatMs());
      assertEquals(10_000, hb.getSessionTimeoutMs());
    }

    @Test
    void R1_heartbeatCarriesCommitsAppliedFirst() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withGroup("g", "t")
          .withMember("g", "A");
      long epoch = ctx.consumer("g", "A").held.get("t/0").getEpoch();
      HeartbeatResult hb = ctx.heartbeat("g", "A", entry("t", 0, epoch, "42"));
      assertEquals(List.of(Code.OK), hb.getCommitCodesList());
      assertEquals("42", hb.getGrants(0).getCursor());
      assertEquals("42", ctx.partition("g", "t", 0).getCheckpoint().getCursor());
    }

    @Test
    void R1_shortIntervalWhileAHandoffIsPending() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2).withGroup("g", "t")
          .withMember("g", "A");
      HeartbeatResult joining = ctx.heartbeat("g", "B");
      assertEquals(Membership.HANDOFF_INTERVAL_MS, joining.getNextHeartbeatMs(), "B waits for a partition");
      assertEquals(1000, joining.getGroupHeartbeatMs(), "the group's interval, for a member whose watch is placed");
      HeartbeatResult releasing = ctx.heartbeat("g", "A");
      assertEquals(1, releasing.getReleaseCount());
      assertEquals(Membership.HANDOFF_INTERVAL_MS, releasing.getNextHeartbeatMs(), "A must release");
      assertEquals(1000, releasing.getGroupHeartbeatMs());
      ctx.settle("g");
      assertEquals(1000, ctx.heartbeat("g", "A").getNextHeartbeatMs());
      assertEquals(1000, ctx.heartbeat("g", "B").getNextHeartbeatMs());
    }

    @Test
    void R1_aHeartbeatThatChangesNothingMovesNothing() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      byte[] before = ctx.exportBytes();
      HeartbeatResult hb = ctx.heartbeat("g", "A");
      assertEquals(2, hb.getGrantsCount());
      assertEquals(0, hb.getReleaseCount());
      assertEquals(ctx.assignment("g").toString(), "{A=[0, 1], B=[2, 3]}");
      assertNotEquals(0, before.length);
    }
  }

  @Nested
  class R2_Handoff {
    @Test
    void R2_partitionIsNeverGrantedWhileStillHeld() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2).withGroup("g", "t")
          .withMember("g", "A");
      long oldEpoch = ctx.consumer("g", "A").held.get("t/1").getEpoch();
      ctx.heartbeat("g", "B");
      // A still holds 1 and is told to release it to B.
      assertEquals("A", ctx.partition("g", "t", 1).getHolder());
      assertEquals("B", ctx.partition("g", "t", 1).getTarget());
      assertEquals(PartitionStatus.RELEASING, ctx.partition("g", "t", 1).getStatus());
      // B's heartbeats do not take it while A holds it.
      assertEquals(0, ctx.heartbeat("g", "B").getGrantsCount());
      // A's final commit is still accepted while releasing.
      assertEquals(Code.OK, ctx.commit("g", "A", entry("t", 1, oldEpoch, "7")).getCommit().getCodes(0));
      ctx.heartbeat("g", "A"); // told to release
      assertEquals("A", ctx.partition("g", "t", 1).getHolder());
      ctx.heartbeat("g", "A"); // omits it: released and granted to B at once
      assertEquals("B", ctx.partition("g", "t", 1).getHolder());
      HeartbeatResult b = ctx.heartbeat("g", "B");
      Grant grant = b.getGrants(0);
      assertEquals(1, grant.getPartition());
      assertTrue(grant.getEpoch() > oldEpoch, "a new grant has a new epoch");
      assertEquals("7", grant.getCursor(), "B resumes from A's last commit");
    }

    @Test
    void R2_aLeavingHolderReleasesAtOnce() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      ok(ctx.leave("g", "A"));
      ctx.settle("g");
      assertEquals("{B=[0, 1, 2, 3]}", ctx.assignment("g").toString());
    }
  }

  @Nested
  class R3_Fencing {
    @Test
    void R3_onlyTheHolderWithItsEpochCommits() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      long epochOfB = ctx.consumer("g", "B").held.get("t/2").getEpoch();
      byte[] before = ctx.exportBytes();
      Result fenced = ctx.commit("g", "A", entry("t", 2, epochOfB, "99"));
      assertEquals(List.of(Code.FENCED), fenced.getCommit().getCodesList());
      Result staleEpoch = ctx.commit("g", "B", entry("t", 2, epochOfB - 1, "99"));
      assertEquals(List.of(Code.FENCED), staleEpoch.getCommit().getCodesList());
      assertFalse(ctx.partition("g", "t", 2).hasCheckpoint());
      assertEquals(Code.OK, ctx.commit("g", "B", entry("t", 2, epochOfB, "5")).getCommit().getCodes(0));
      assertEquals("5", ctx.partition("g", "t", 2).getCheckpoint().getCursor());
      assertNotEquals(0, before.length);
    }

    @Test
    void R3_oneCommandCarriesManyPartitionsWithACodeEach() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      var held = ctx.consumer("g", "A").held;
      Result r = ctx.commit("g", "A",
          entry("t", 0, held.get("t/0").getEpoch(), "10"),
          entry("t", 1, held.get("t/1").getEpoch(), "11"),
          entry("t", 2, 1, "12"),
          entry("t", 9, 1, "13"));
      assertEquals(List.of(Code.OK, Code.OK, Code.FENCED, Code.NOT_FOUND), r.getCommit().getCodesList());
      assertEquals("10", ctx.partition("g", "t", 0).getCheckpoint().getCursor());
      assertEquals("11", ctx.partition("g", "t", 1).getCheckpoint().getCursor());
    }

    @Test
    void R3_liveResetFencesTheHolderWhichRestartsFromTheNewCursor() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      long epoch = ctx.consumer("g", "A").held.get("t/0").getEpoch();
      ok(ctx.commit("g", "A", entry("t", 0, epoch, "500")));
      ok(ctx.reset("g", "t", 0, "100"));
      assertEquals(List.of(Code.FENCED), ctx.commit("g", "A", entry("t", 0, epoch, "501")).getCommit().getCodesList());
      HeartbeatResult hb = ctx.heartbeat("g", "A");
      Grant g = hb.getGrantsList().stream().filter(x -> x.getPartition() == 0).findFirst().orElseThrow();
      assertTrue(g.getEpoch() > epoch);
      assertEquals("100", g.getCursor());
      assertEquals(Code.OK, ctx.commit("g", "A", entry("t", 0, g.getEpoch(), "101")).getCommit().getCodes(0));
      assertEquals("{A=[0, 1], B=[2, 3]}", ctx.assignment("g").toString(), "nobody else moved");
    }

    @Test
    void R3_finishedOnlyOnASealedPartition() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      long epoch = ctx.consumer("g", "A").held.get("t/0").getEpoch();
      Result r = ctx.commit("g", "A", entry("t", 0, epoch, "1").toBuilder().setFinished(true).build());
      assertEquals(List.of(Code.INVALID_ARGUMENT), r.getCommit().getCodesList());
    }

    @Test
    void R3_aStaleSessionIsFencedAndAnUnknownOneMustRejoin() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      var view = ctx.consumer("g", "A");
      var old = view.session;
      view.session = com.google.protobuf.ByteString.EMPTY;
      ctx.heartbeat("g", "A"); // takeover by a restarted A
      view.session = old;
      assertEquals(Code.FENCED, ctx.heartbeatResult("g", "A").getCode());
      view.session = TestStamps.token(123_456);
      ctx.consumer("g", "Z").session = TestStamps.token(77);
      assertEquals(Code.UNKNOWN_MEMBER, ctx.heartbeatResult("g", "Z").getCode());
    }
  }

  @Nested
  class StaticMembership {
    @Test
    void R2_aRestartedConsumerGetsItsPartitionsWithNewEpochsOnceTheOldSessionEndsAndNothingElseMoves() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      long oldEpoch = ctx.grant("g", "A", "t", 0).getEpoch();
      var old = ctx.restart("g", "A"); // the old process crashed; a new one joins
      assertNotEquals(old.session, ctx.consumer("g", "A").session);
      assertEquals(0, ctx.consumer("g", "A").last.getGrantsCount(), "not while the old one may read");
      ctx.advanceMs(10_001); // the old session's deadline passes (the new one heartbeats meanwhile)
      ctx.heartbeat("g", "B");
      HeartbeatResult hb = ctx.heartbeat("g", "A");
      assertEquals(2, hb.getGrantsCount());
      assertTrue(hb.getGrants(0).getEpoch() > oldEpoch);
      ctx.settle("g");
      assertEquals("{A=[0, 1], B=[2, 3]}", ctx.assignment("g").toString());
    }
  }

  @Nested
  class R4_Balance {
    @Test
    void R4_weightsBalanceLoadNotCounts() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 4).withGroup("g", "t");
      ok(ctx.apply(Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic("t").setPartition(0).setWeight(3))));
      ctx.withMember("g", "A").withMember("g", "B");
      Map<String, TreeSet<Integer>> a = ctx.assignment("g");
      // 3 | 1+1+1: the heavy partition alone on one side.
      assertTrue(a.values().stream().anyMatch(s -> s.equals(new TreeSet<>(List.of(0)))), a.toString());
    }

    @Test
    void R4_countsDifferByAtMostOneWithUnitWeights() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 10).withGroup("g", "t");
      for (String c : List.of("A", "B", "C", "D")) {
        ctx.withMember("g", c);
      }
      var sizes = ctx.assignment("g").values().stream().mapToInt(TreeSet::size).summaryStatistics();
      assertTrue(sizes.getMax() - sizes.getMin() <= 1, ctx.assignment("g").toString());
      assertEquals(10, sizes.getSum());
    }

    @Test
    void R4_sameCommandsSameAssignment() {
      assertArrayEquals(twoConsumersOnFourPartitions().exportBytes(), twoConsumersOnFourPartitions().exportBytes());
    }

    @Test
    void R4_finishedSealedPartitionsAreAssignedToNobody() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withGroup("g", "t")
          .withMember("g", "A");
      ok(ctx.split("t", 0));
      ctx.settle("g");
      long epoch = ctx.consumer("g", "A").held.get("t/0").getEpoch();
      ok(ctx.commit("g", "A", entry("t", 0, epoch, "end").toBuilder().setFinished(true).build()));
      ctx.settle("g");
      assertEquals(PartitionStatus.FINISHED, ctx.partition("g", "t", 0).getStatus());
      assertEquals("{A=[1, 2]}", ctx.assignment("g").toString());
    }
  }

  @Nested
  class R5_SplitMergeOrder {
    @Test
    void R5_splitSealsTheParentAndChildrenCoverItsRange() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2);
      Result r = ok(ctx.split("t", 1));
      assertEquals(List.of(2, 3), r.getSplit().getChildrenList());
      TopicView t = ctx.coordinator.query(Query.newBuilder().setDescribeTopic(
          DescribeTopicQuery.newBuilder().setTopic("t")).build(), Principals.INTERNAL).getTopic();
      PartitionView parent = t.getPartitions(1);
      assertEquals(PartitionState.SEALED, parent.getState());
      assertEquals(parent.getRangeBegin(), t.getPartitions(2).getRangeBegin());
      assertEquals(t.getPartitions(2).getRangeEnd(), t.getPartitions(3).getRangeBegin());
      assertEquals(parent.getRangeEnd(), t.getPartitions(3).getRangeEnd());
      assertEquals("10000000000000000", parent.getRangeEnd());
      assertEquals(List.of(1), t.getPartitions(2).getParentsList());
      assertEquals(Code.FAILED_PRECONDITION, ctx.split("t", 1).getCode(), "a sealed partition does not split again");
    }

    @Test
    void R5_mergeNeedsAdjacentActivePartitions() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 3);
      Result notAdjacent = ctx.apply(Command.newBuilder().setMergePartitions(
          MergePartitions.newBuilder().setTopic("t").setPartition1(0).setPartition2(2)));
      assertEquals(Code.FAILED_PRECONDITION, notAdjacent.getCode());
      Result merged = ok(ctx.apply(Command.newBuilder().setMergePartitions(
          MergePartitions.newBuilder().setTopic("t").setPartition1(2).setPartition2(1))));
      assertEquals(List.of(3), merged.getSplit().getChildrenList());
    }

    @Test
    void R5_orderFalseChildrenAreReadAtOnceAndParentsToTheirEnd() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withGroup("g", "t")
          .withMember("g", "A");
      ok(ctx.split("t", 0));
      ctx.settle("g");
      assertEquals("{A=[0, 1, 2]}", ctx.assignment("g").toString());
    }

    @Test
    void R5_mergedChildWaitsForBothParents() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2).withOrderedGroup("g", "t")
          .withMember("g", "A");
      ok(ctx.apply(Command.newBuilder().setMergePartitions(
          MergePartitions.newBuilder().setTopic("t").setPartition1(0).setPartition2(1))));
      ctx.settle("g");
      assertEquals(List.of(0, 1), ctx.partition("g", "t", 2).getWaitingForList());
      var held = ctx.consumer("g", "A").held;
      ok(ctx.commit("g", "A", entry("t", 0, held.get("t/0").getEpoch(), "e").toBuilder().setFinished(true).build()));
      assertEquals(List.of(1), ctx.partition("g", "t", 2).getWaitingForList());
      assertFalse(ctx.partition("g", "t", 2).hasHolder());
      ok(ctx.commit("g", "A", entry("t", 1, held.get("t/1").getEpoch(), "e").toBuilder().setFinished(true).build()));
      assertEquals("A", ctx.partition("g", "t", 2).getHolder());
    }

    @Test
    void R5_aSealedParentWithNothingToReadDoesNotBlock() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1);
      ok(ctx.split("t", 0));
      ctx.withGroup(CoordinatorTestContext.group("g", "t").setOrder(true).setStartFrom(StartFrom.END))
          .withMember("g", "A");
      assertEquals("{A=[1, 2]}", ctx.assignment("g").toString());
    }

    @Test
    void R5_resettingAFinishedParentStopsItsChildrenAgain() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withOrderedGroup("g", "t")
          .withMember("g", "A");
      ok(ctx.split("t", 0));
      long epoch = ctx.consumer("g", "A").held.get("t/0").getEpoch();
      ok(ctx.commit("g", "A", entry("t", 0, epoch, "e").toBuilder().setFinished(true).build()));
      ctx.settle("g");
      assertEquals("{A=[1, 2]}", ctx.assignment("g").toString());
      ok(ctx.reset("g", "t", 0, "0"));
      assertEquals(PartitionStatus.RELEASING, ctx.partition("g", "t", 1).getStatus());
      ctx.settle("g");
      assertEquals("{A=[0]}", ctx.assignment("g").toString());
    }
  }

  @Nested
  class R6_Time {
    @Test
    void R6_timeNeverGoesBackwards() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withGroup("g", "t");
      long before = ctx.coordinator.nowMs();
      ctx.nowMs -= 60_000; // a leader whose clock is behind
      ctx.heartbeat("g", "A");
      assertEquals(before, ctx.coordinator.nowMs());
      assertEquals(before, ctx.describe("g").getMembers(0).getLastHeartbeatMs());
    }

    @Test
    void R6_aNewTermPushesDeadlinesSoASkewedLeaderExpiresNobody() {
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withGroup("g", "t")
          .withMember("g", "A");
      ctx.term = 2;
      ctx.advanceMs(30_000); // the new leader's clock is 30 s ahead, past the 10 s timeout
      assertEquals(0, ctx.tick().getTick().getExpiredCount());
      assertEquals(List.of("A"), ctx.members("g"));
      ctx.advanceMs(9_000);
      assertEquals(0, ctx.tick().getTick().getExpiredCount());
      ctx.advanceMs(2_000);
      assertEquals(List.of("g/A"), ctx.tick().getTick().getExpiredList(), "a silent consumer still expires");
    }
  }

  @Nested
  class R7_Expiry {
    @Test
    void R7_aSilentMemberExpiresOnTickAndOthersGetItsPartitions() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      ctx.advanceMs(6_000);
      ctx.heartbeat("g", "B");
      ctx.advanceMs(4_000);
      assertEquals(0, ctx.tick().getTick().getExpiredCount(), "exactly at the timeout: not yet");
      ctx.advanceMs(1);
      assertEquals(List.of("g/A"), ctx.tick().getTick().getExpiredList());
      assertEquals("{B=[0, 1, 2, 3]}", ctx.assignment("g").toString(), "granted on the tick itself");
      assertEquals(Code.UNKNOWN_MEMBER, ctx.heartbeatResult("g", "A").getCode());
    }

    @Test
    void R7_leaveRemovesAtOnceAfterItsFinalCommits() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      long epoch = ctx.consumer("g", "A").held.get("t/0").getEpoch();
      Result r = ctx.apply(Command.newBuilder().setLeave(io.cohort.statemachine.proto.Leave.newBuilder()
          .setGroup("g").setConsumerId("A").setSessionToken(ctx.consumer("g", "A").session)
          .addCommits(entry("t", 0, epoch, "77"))));
      ok(r);
      assertEquals(List.of(Code.OK), r.getCommit().getCodesList());
      assertEquals(List.of("B"), ctx.members("g"));
      assertEquals("77", ctx.partition("g", "t", 0).getCheckpoint().getCursor());
    }
  }

  @Nested
  class R8_DeterministicErrors {
    @Test
    void R8_invalidCommandsGetACodeAndChangeNothing() {
      CoordinatorTestContext ctx = twoConsumersOnFourPartitions();
      String before = digestIgnoringIndex(ctx);
      List<Command.Builder> bad = List.of(
          Command.newBuilder(),
          Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t").setPartitions(2)),
          Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("bad name").setPartitions(2)),
          Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("u").setPartitions(0)),
          Command.newBuilder().setDeleteTopic(DeleteTopic.newBuilder().setTopic("t")),
          Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup("g")),
          Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("h").addTopics("nope")),
          Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("h").addTopics("t").setSessionTimeoutMs(10)),
          Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic("t").setPartition(0).setWeight(-1)),
          Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic("t").setPartition(0).setWeight(Double.NaN)),
          Command.newBuilder().setMergePartitions(MergePartitions.newBuilder().setTopic("t").setPartition1(1).setPartition2(1)));
      for (Command.Builder c : bad) {
        Result r = ctx.apply(c);
        assertNotEquals(Code.OK, r.getCode(), c.toString());
        assertFalse(r.getMessage().isEmpty());
        assertEquals(before, digestIgnoringIndex(ctx), "changed state: " + c);
      }
    }

    @Test
    void R8_undecodableEntriesAreRejectedNotSkipped() {
      Coordinator c = new Coordinator(Limits.DEFAULTS);
      Result r = c.applyLogEntry(new byte[] {(byte) 0xff, 0x01, 0x02}, 1, 1);
      assertEquals(Code.INVALID_ARGUMENT, r.getCode());
      byte[] garbageCommand = LogEntry.newBuilder().setTimeMs(5)
          .setCommand(ByteString.copyFrom(new byte[] {0x0a, 0x7f})).build().toByteArray();
      assertEquals(Code.INVALID_ARGUMENT, c.applyLogEntry(garbageCommand, 2, 1).getCode());
      assertEquals(2, c.appliedIndex());
    }

    private String digestIgnoringIndex(CoordinatorTestContext ctx) {
      var records = CoordinatorTestContext.records(ctx.coordinator);
      records.set(0, records.get(0).toBuilder().setHeader(records.get(0).getHeader().toBuilder()
          .clearAppliedIndex()).build());
      return records.toString();
    }
  }

  @Nested
  class R9_Limits {
    @Test
    void R9_limitsAreEnforcedWithLimitExceeded() {
      Limits small = new Limits(2, 4, 1, 1, 2, 2, 8, 1_000, 1_000, 1_000, 1 << 20);
      CoordinatorTestContext ctx = new CoordinatorTestContext(small).withTopic("t", 4).withGroup("g", "t")
          .withMember("g", "A").withMember("g", "B");
      assertEquals(Code.LIMIT_EXCEEDED, ctx.heartbeatResult("g", "C").getCode(), "members per group");
      assertEquals(Code.LIMIT_EXCEEDED, ctx.apply(Command.newBuilder().setCreateTopic(
          CreateTopic.newBuilder().setTopic("u").setPartitions(5))).getCode(), "partitions per topic");
      assertEquals(Code.LIMIT_EXCEEDED, ctx.split("t", 0).getCode(), "a split past the partition limit");
      ctx.withTopic("u", 1);
      assertEquals(Code.LIMIT_EXCEEDED, ctx.apply(Command.newBuilder().setCreateTopic(
          CreateTopic.newBuilder().setTopic("v").setPartitions(1))).getCode(), "topics");
      assertEquals(Code.LIMIT_EXCEEDED, ctx.apply(Command.newBuilder().setCreateGroup(
          CreateGroup.newBuilder().setGroup("h").addTopics("u"))).getCode(), "groups");
      long epoch = ctx.consumer("g", "A").held.values().iterator().next().getEpoch();
      int p = ctx.consumer("g", "A").held.values().iterator().next().getPartition();
      assertEquals(Code.LIMIT_EXCEEDED, ctx.commit("g", "A", entry("t", p, epoch, "123456789")).getCode(),
          "cursor bytes: the whole command is refused, before the log");
      CheckpointEntry e = entry("t", p, epoch, "1");
      assertEquals(Code.LIMIT_EXCEEDED, ctx.commit("g", "A", e, e, e).getCode(), "entries per command");
    }

    @Test
    void R9_namesAreCheckedAtCreation() {
      CoordinatorTestContext ctx = new CoordinatorTestContext();
      assertEquals(Code.INVALID_ARGUMENT, ctx.apply(Command.newBuilder().setCreateTopic(
          CreateTopic.newBuilder().setTopic("x".repeat(256)).setPartitions(1))).getCode());
      assertEquals(Code.INVALID_ARGUMENT, ctx.apply(Command.newBuilder().setCreateTopic(
          CreateTopic.newBuilder().setTopic("").setPartitions(1))).getCode());
      ok(ctx.apply(Command.newBuilder().setCreateTopic(
          CreateTopic.newBuilder().setTopic("A-z_0.9").setPartitions(1))));
      ctx.withGroup("g", "A-z_0.9");
      assertEquals(Code.INVALID_ARGUMENT, ctx.heartbeatResult("g", "a/b").getCode());
    }
  }
}
