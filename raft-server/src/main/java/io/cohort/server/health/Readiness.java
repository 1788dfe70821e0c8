package io.cohort.server.health;

import io.cohort.server.CohortStateMachine;
import io.cohort.server.LogFailure;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.LifeCycle;

/**
 * Whether this node should get traffic ({@code /readyz}, {@code cohort_node_ready}): it writes its
 * log, knows a leader whose contact is fresh, and has applied close to that leader's commit index.
 *
 * <ul>
 *   <li>A failed log write (a full disk) makes the node not ready at once: Ratis keeps it answering
 *       heartbeats, but it never persists another entry (RATIS-NOTES F).
 *   <li>Freshness, bound {@code rpc.timeout.max}: a follower must have had AppendEntries from its
 *       leader within it; a leader must have had responses from a majority within it (a leader that
 *       keeps appending may not step down on its own, RATIS-NOTES C.4). A node cut off from its
 *       peers fails this within the bound, whatever its role.
 *   <li>Lag: the leader's commit index as this node knows it (on a follower, from the commit infos
 *       every AppendEntries carries, since its own commit index stops at what it flushed) minus its
 *       applied index, at most {@code maxLagEntries}.
 * </ul>
 */
public final class Readiness {
  /** The answer, with a one-line reason for the operator. */
  public record Verdict(boolean ready, String reason) {}

  /**
   * What the verdict is judged on, read from Ratis at once.
   *
   * @param failure the first log write failure, or null
   * @param leader the leader this node knows, or null
   * @param followerRpcAgesMs on a leader: per follower, ms since it last responded
   * @param leaderRpcAgeMs on a follower: ms since the leader's last AppendEntries ({@code Long.MAX_VALUE}: never)
   * @param leaderCommit the leader's commit index as this node knows it
   */
  public record Inputs(LogFailure failure, LifeCycle.State raft, LifeCycle.State stateMachine, RaftPeerRole role,
      long term, RaftPeerId leader, boolean leaderReady, int voters, List<Long> followerRpcAgesMs, long leaderRpcAgeMs,
      long freshMs, long leaderCommit, long applied) {}

  private final Supplier<RaftServer.Division> division;
  private final CohortStateMachine stateMachine;
  private final long maxLagEntries;

  /** @param division the node's division, or null while it has none (closed) */
  public Readiness(Supplier<RaftServer.Division> division, CohortStateMachine stateMachine, long maxLagEntries) {
    this.division = division;
    this.stateMachine = stateMachine;
    this.maxLagEntries = maxLagEntries;
  }

  public Verdict check() {
    LogFailure failure = stateMachine.logFailure();
    if (failure != null) {
      return no(failure.describe());
    }
    RaftServer.Division d = division.get();
    if (d == null) {
      return no("raft server is not running");
    }
    return judge(inputs(d, stateMachine), maxLagEntries);
  }

  static Inputs inputs(RaftServer.Division d, CohortStateMachine sm) {
    DivisionInfo info = d.getInfo();
    RoleInfoProto role = info.getRoleInfoProto();
    RaftPeerId leader = info.getLeaderId();
    if (!info.isLeader() && d.getId().equals(leader)) {
      // A leader that stepped down (LOST_MAJORITY_HEARTBEATS) still names itself, and its fresh
      // follower state looks like contact with that leader: it knows no leader.
      leader = null;
    }
    List<Long> followerAges = new ArrayList<>();
    for (ServerRpcProto f : role.getLeaderInfo().getFollowerInfoList()) {
      followerAges.add(f.getLastRpcElapsedTimeMs());
    }
    long leaderAge = role.hasFollowerInfo() && role.getFollowerInfo().getLeaderInfo().hasId()
        ? role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs() : Long.MAX_VALUE;
    long commit = d.getRaftLog().getLastCommittedIndex();
    long leaderCommit = info.isLeader() || leader == null ? commit
        : Math.max(commit, commitOf(d.getCommitInfos(), leader));
    return new Inputs(sm.logFailure(), info.getLifeCycleState(), sm.getLifeCycleState(), info.getCurrentRole(),
        info.getCurrentTerm(), leader, info.isLeaderReady(), d.getRaftConf().getCurrentPeers().size(), followerAges,
        leaderAge, d.properties().maxRpcTimeoutMs(), leaderCommit, sm.appliedIndex());
  }

  /** The verdict, first reason first. */
  public static Verdict judge(Inputs in, long maxLagEntries) {
    if (in.failure() != null) {
      return no(in.failure().describe());
    }
    if (in.raft() != LifeCycle.State.RUNNING) {
      return no("raft server is " + in.raft());
    }
    if (in.stateMachine() != LifeCycle.State.RUNNING) {
      return no("state machine is " + in.stateMachine() + " (loading a snapshot)");
    }
    if (in.leader() == null) {
      return no("no leader known (" + in.role() + ", term " + in.term() + ")");
    }
    if (in.role() == RaftPeerRole.LEADER) {
      if (!in.leaderReady()) {
        return no("leader of term " + in.term() + " is not ready yet");
      }
      int fresh = 1; // itself
      for (long age : in.followerRpcAgesMs()) {
        fresh += age <= in.freshMs() ? 1 : 0;
      }
      if (fresh * 2 <= in.voters()) {
        return no("leader has heard from " + (fresh - 1) + " of " + (in.voters() - 1) + " followers within "
            + in.freshMs() + " ms: cut off from the majority");
      }
    } else if (in.leaderRpcAgeMs() > in.freshMs()) {
      return no("no AppendEntries from leader " + in.leader() + " for "
          + (in.leaderRpcAgeMs() == Long.MAX_VALUE ? "ever" : in.leaderRpcAgeMs() + " ms")
          + " (bound " + in.freshMs() + " ms)");
    }
    long lag = in.leaderCommit() - in.applied();
    if (lag > maxLagEntries) {
      return no("applied index " + in.applied() + " is " + lag + " entries behind the leader's commit index "
          + in.leaderCommit() + " (at most " + maxLagEntries + ")");
    }
    return new Verdict(true, "ready: " + in.role() + " in term " + in.term() + ", leader " + in.leader()
        + ", applied " + in.applied() + " of " + in.leaderCommit());
  }

  static long commitOf(Collection<CommitInfoProto> infos, RaftPeerId peer) {
    for (CommitInfoProto c : infos) {
      if (RaftPeerId.valueOf(c.getServer().getId()).equals(peer)) {
        return c.getCommitIndex();
      }
    }
    return -1;
  }

  private static Verdict no(String reason) {
    return new Verdict(false, reason);
  }
}
