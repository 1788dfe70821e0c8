package io.cohort.server.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.LogFailure;
import io.cohort.server.health.Readiness.Inputs;
import io.cohort.server.health.Readiness.Verdict;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.Test;

/** Each reason {@code /readyz} gives, on the inputs it reads from Ratis. */
class ReadinessJudgeTest {
  private static final RaftPeerId N1 = RaftPeerId.valueOf("n1");
  private static final RaftPeerId N2 = RaftPeerId.valueOf("n2");
  private static final long FRESH_MS = 1200;
  private static final long MAX_LAG = 1000;

  private static Inputs follower(long leaderRpcAgeMs, long leaderCommit, long applied) {
    return new Inputs(null, LifeCycle.State.RUNNING, LifeCycle.State.RUNNING, RaftPeerRole.FOLLOWER, 3, N1, false, 3,
        List.of(), leaderRpcAgeMs, FRESH_MS, leaderCommit, applied);
  }

  private static Inputs leader(boolean ready, List<Long> followerAgesMs) {
    return new Inputs(null, LifeCycle.State.RUNNING, LifeCycle.State.RUNNING, RaftPeerRole.LEADER, 3, N2, ready, 3,
        followerAgesMs, Long.MAX_VALUE, FRESH_MS, 500, 500);
  }

  private static Verdict judge(Inputs in) {
    return Readiness.judge(in, MAX_LAG);
  }

  @Test
  void aFollowerInTouchWithItsLeaderAndCaughtUpIsReady() {
    Verdict v = judge(follower(250, 5000, 4000));
    assertTrue(v.ready(), v.reason());
    assertEquals("ready: FOLLOWER in term 3, leader n1, applied 4000 of 5000", v.reason());
  }

  @Test
  void aFollowerWithoutAppendEntriesForLongerThanTheBoundIsNotReady() {
    assertTrue(judge(follower(FRESH_MS, 10, 10)).ready(), "at the bound");
    Verdict v = judge(follower(FRESH_MS + 1, 10, 10));
    assertFalse(v.ready());
    assertEquals("no AppendEntries from leader n1 for 1201 ms (bound 1200 ms)", v.reason());
    assertFalse(judge(follower(Long.MAX_VALUE, 10, 10)).ready());
  }

  @Test
  void aNodeMoreThanMaxLagBehindTheLeadersCommitIsNotReady() {
    assertTrue(judge(follower(10, 18_510 + MAX_LAG, 18_510)).ready());
    Verdict v = judge(follower(10, 30_296, 18_510));
    assertFalse(v.ready());
    assertEquals("applied index 18510 is 11786 entries behind the leader's commit index 30296 (at most 1000)",
        v.reason());
  }

  @Test
  void C4_aLeaderThatHeardFromNoMajorityWithinTheBoundIsNotReady() {
    assertTrue(judge(leader(true, List.of(100L, 5000L))).ready(), "itself and one follower: a majority of 3");
    Verdict v = judge(leader(true, List.of(1300L, 5000L)));
    assertFalse(v.ready());
    assertEquals("leader has heard from 0 of 2 followers within 1200 ms: cut off from the majority", v.reason());
  }

  @Test
  void aLeaderWhoseStartUpEntryIsNotAppliedIsNotReady() {
    assertEquals("leader of term 3 is not ready yet", judge(leader(false, List.of(1L, 1L))).reason());
  }

  @Test
  void noLeaderKnown_aLoadingStateMachine_aStoppedServer_areNotReady() {
    Inputs candidate = new Inputs(null, LifeCycle.State.RUNNING, LifeCycle.State.RUNNING, RaftPeerRole.CANDIDATE, 4,
        null, false, 3, List.of(), Long.MAX_VALUE, FRESH_MS, 10, 10);
    assertEquals("no leader known (CANDIDATE, term 4)", judge(candidate).reason());
    Inputs loading = new Inputs(null, LifeCycle.State.RUNNING, LifeCycle.State.PAUSED, RaftPeerRole.FOLLOWER, 4, N1,
        false, 3, List.of(), 10, FRESH_MS, 10, 10);
    assertEquals("state machine is PAUSED (loading a snapshot)", judge(loading).reason());
    Inputs closing = new Inputs(null, LifeCycle.State.CLOSING, LifeCycle.State.RUNNING, RaftPeerRole.FOLLOWER, 4, N1,
        false, 3, List.of(), 10, FRESH_MS, 10, 10);
    assertEquals("raft server is CLOSING", judge(closing).reason());
  }

  @Test
  void aFailedLogWriteComesFirst() {
    Inputs in = new Inputs(new LogFailure(18_511, "java.io.IOException: No space left on device"),
        LifeCycle.State.RUNNING, LifeCycle.State.RUNNING, RaftPeerRole.FOLLOWER, 3, N1, false, 3, List.of(), 10,
        FRESH_MS, 18_510, 18_510);
    Verdict v = judge(in);
    assertFalse(v.ready());
    assertEquals("raft log write failed at index 18511: java.io.IOException: No space left on device", v.reason());
  }
}
