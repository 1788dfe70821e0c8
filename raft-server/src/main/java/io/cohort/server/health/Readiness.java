package io.cohort.server.health;

import io.cohort.server.CohortStateMachine;
import io.cohort.server.LogFailure;
import java.util.Collection;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
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
 *       keeps appending never steps down on its own, RATIS-NOTES C.4). A node cut off from its peers
 *       fails this within the bound, whatever its role.
 *   <li>Lag: the leader's commit index as this node knows it (on a follower, from the commit infos
 *       every AppendEntries carries; its own commit index stops at what it flushed) minus its applied
 *       index, at most {@code maxLagEntries}.
 * </ul>
 */
public final class Readiness {
  /** The answer, with a one-line reason for the operator. */
  public record Verdict(boolean ready, String reason) {}

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
    DivisionInfo info = d.getInfo();
    if (info.getLifeCycleState() != LifeCycle.State.RUNNING) {
      return no("raft server is " + info.getLifeCycleState());
    }
    if (stateMachine.getLifeCycleState() != LifeCycle.State.RUNNING) {
      return no("state machine is " + stateMachine.getLifeCycleState() + " (loading a snapshot)");
    }
    RaftPeerId leader = info.getLeaderId();
    if (leader == null) {
      return no("no leader known (" + info.getCurrentRole() + ", term " + info.getCurrentTerm() + ")");
    }
    long freshMs = d.properties().maxRpcTimeoutMs();
    RoleInfoProto role = info.getRoleInfoProto();
    long leaderCommit;
    if (info.isLeader()) {
      if (!info.isLeaderReady()) {
        return no("leader of term " + info.getCurrentTerm() + " is not ready yet");
      }
      int voters = d.getRaftConf().getCurrentPeers().size();
      int fresh = 1; // itself
      for (ServerRpcProto f : role.getLeaderInfo().getFollowerInfoList()) {
        if (f.getLastRpcElapsedTimeMs() <= freshMs) {
          fresh++;
        }
      }
      if (fresh * 2 <= voters) {
        return no("leader has heard from " + (fresh - 1) + " of " + (voters - 1) + " followers within "
            + freshMs + " ms: cut off from the majority");
      }
      leaderCommit = d.getRaftLog().getLastCommittedIndex();
    } else {
      long sinceLeaderMs = role.hasFollowerInfo() ? role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs()
          : Long.MAX_VALUE;
      if (sinceLeaderMs > freshMs) {
        return no("no AppendEntries from leader " + leader + " for "
            + (sinceLeaderMs == Long.MAX_VALUE ? "ever" : sinceLeaderMs + " ms") + " (bound " + freshMs + " ms)");
      }
      leaderCommit = Math.max(d.getRaftLog().getLastCommittedIndex(), commitOf(d.getCommitInfos(), leader));
    }
    long applied = stateMachine.appliedIndex();
    long lag = leaderCommit - applied;
    if (lag > maxLagEntries) {
      return no("applied index " + applied + " is " + lag + " entries behind the leader's commit index "
          + leaderCommit + " (at most " + maxLagEntries + ")");
    }
    return new Verdict(true, "ready: " + info.getCurrentRole() + " in term " + info.getCurrentTerm() + ", leader "
        + leader + ", applied " + applied + " of " + leaderCommit);
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
