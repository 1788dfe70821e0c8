package io.cohort.server.metrics;

import static io.cohort.server.metrics.CoordinatorCollector.gauge;
import static io.cohort.server.metrics.CoordinatorCollector.point;

import io.cohort.server.CohortStateMachine;
import io.cohort.server.health.Readiness;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * This node's Raft view at scrape time, from Ratis' {@code Division} (RATIS-NOTES E): role, term,
 * commit/applied/log indexes, the leader, each peer's commit index and lag, the time since each
 * peer was heard from, whether the log failed, and the readiness verdict.
 */
final class RaftCollector implements MultiCollector {
  private static final RaftPeerRole[] ROLES = {RaftPeerRole.LEADER, RaftPeerRole.FOLLOWER,
      RaftPeerRole.CANDIDATE, RaftPeerRole.LISTENER};

  private final Supplier<RaftServer.Division> division;
  private final CohortStateMachine stateMachine;
  private final Readiness readiness;

  RaftCollector(Supplier<RaftServer.Division> division, CohortStateMachine stateMachine, Readiness readiness) {
    this.division = division;
    this.stateMachine = stateMachine;
    this.readiness = readiness;
  }

  @Override
  public MetricSnapshots collect() {
    List<MetricSnapshot> out = new ArrayList<>();
    out.add(gauge("cohort_raft_log_failed", "1 once a Raft log write failed (a full disk): the node never catches up",
        Labels.EMPTY, stateMachine.logFailure() == null ? 0 : 1));
    out.add(gauge("cohort_node_ready", "1 when /readyz answers 200", Labels.EMPTY, readiness.check().ready() ? 1 : 0));
    out.add(gauge("cohort_raft_applied_index", "Last log index applied to the state machine", Labels.EMPTY,
        stateMachine.appliedIndex()));
    RaftServer.Division d = division.get();
    if (d == null) {
      return new MetricSnapshots(out);
    }
    DivisionInfo info = d.getInfo();
    RaftPeerRole current = info.getCurrentRole();
    GaugeSnapshot.Builder role = GaugeSnapshot.builder().name("cohort_raft_role")
        .help("1 for this node's current Raft role, 0 for the others");
    for (RaftPeerRole r : ROLES) {
      role.dataPoint(point(Labels.of("role", r.name()), r == current ? 1 : 0));
    }
    out.add(role.build());
    out.add(gauge("cohort_raft_term", "Current Raft term", Labels.EMPTY, info.getCurrentTerm()));
    long commit = d.getRaftLog().getLastCommittedIndex();
    out.add(gauge("cohort_raft_commit_index", "This node's commit index (a follower's stops at what it flushed)",
        Labels.EMPTY, commit));
    TermIndex last = d.getRaftLog().getLastEntryTermIndex();
    out.add(gauge("cohort_raft_last_log_index", "Index of the last entry in this node's log", Labels.EMPTY,
        last == null ? -1 : last.getIndex()));
    out.add(gauge("cohort_raft_flush_index", "Last log index flushed to disk", Labels.EMPTY,
        d.getRaftLog().getFlushIndex()));
    RaftPeerId leader = info.getLeaderId();
    out.add(gauge("cohort_raft_leader_known", "1 when this node knows a leader (itself or another)", Labels.EMPTY,
        leader == null ? 0 : 1));
    GaugeSnapshot.Builder leaderInfo = GaugeSnapshot.builder().name("cohort_raft_leader")
        .help("1 for the leader this node knows (absent when it knows none)");
    if (leader != null) {
      leaderInfo.dataPoint(point(Labels.of("peer", leader.toString()), 1));
    }
    out.add(leaderInfo.build());
    out.addAll(peers(d.getCommitInfos(), info.getRoleInfoProto()));
    return new MetricSnapshots(out);
  }

  /**
   * On the leader, every peer's commit index as the followers reported it; on a follower, what the
   * leader last sent. Lag is the highest commit index known here minus the peer's.
   */
  private static List<GaugeSnapshot> peers(Collection<CommitInfoProto> infos, RoleInfoProto role) {
    Map<String, Long> commits = new TreeMap<>(); // one series per peer, whatever Ratis lists
    long highest = 0;
    for (CommitInfoProto c : infos) {
      commits.merge(c.getServer().getId().toStringUtf8(), c.getCommitIndex(), Math::max);
      highest = Math.max(highest, c.getCommitIndex());
    }
    GaugeSnapshot.Builder commit = GaugeSnapshot.builder().name("cohort_raft_peer_commit_index")
        .help("Each peer's commit index as this node knows it (the leader's view is the freshest)");
    GaugeSnapshot.Builder lag = GaugeSnapshot.builder().name("cohort_raft_peer_commit_lag_entries")
        .help("Highest commit index known here minus the peer's");
    for (Map.Entry<String, Long> c : commits.entrySet()) {
      Labels peer = Labels.of("peer", c.getKey());
      commit.dataPoint(point(peer, c.getValue()));
      lag.dataPoint(point(peer, highest - c.getValue()));
    }
    GaugeSnapshot.Builder contact = GaugeSnapshot.builder().name("cohort_raft_peer_last_contact_seconds")
        .help("On the leader: since each follower last responded; on a follower: since the leader's last AppendEntries");
    List<ServerRpcProto> rpcs = role.hasLeaderInfo() ? role.getLeaderInfo().getFollowerInfoList()
        : role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()
            ? List.of(role.getFollowerInfo().getLeaderInfo()) : List.of();
    Map<String, Long> elapsed = new TreeMap<>();
    for (ServerRpcProto rpc : rpcs) {
      if (rpc.hasId()) {
        elapsed.merge(rpc.getId().getId().toStringUtf8(), rpc.getLastRpcElapsedTimeMs(), Math::min);
      }
    }
    elapsed.forEach((peer, ms) -> contact.dataPoint(point(Labels.of("peer", peer), ms / 1e3)));
    return List.of(commit.build(), lag.build(), contact.build());
  }
}
