package io.cohort.server;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;

/**
 * Whether this node, as leader, heard from a majority recently (RATIS-NOTES C.4): Ratis keeps a
 * leader that keeps appending (its own ticks) in office even when cut off from every follower, so
 * {@code isLeader()} alone does not say the cluster follows it. Counts itself and each follower
 * whose last response is younger than {@code boundMs} (the election timeout's minimum). Sampled
 * by a background task for quiet heartbeats and watches (R12), and looked at again when the sample
 * says stale (a leader that became ready since); checked per request for linearizable reads
 * ({@link #cutOff}), which are rare.
 */
final class LeaderFreshness {
  private LeaderFreshness() {}

  static boolean fresh(RaftServer.Division d, long boundMs) {
    if (d == null || !d.getInfo().isLeader() || !d.getInfo().isLeaderReady()) {
      return false;
    }
    RoleInfoProto role = d.getInfo().getRoleInfoProto();
    return fresh(role.getLeaderInfo().getFollowerInfoList(), d.getRaftConf().getCurrentPeers().size(), boundMs);
  }

  /**
   * R10: this node leads but no majority responded within the election timeout's minimum, checked
   * now rather than sampled. Ratis' ReadIndex skips its heartbeat round for a read at a commit
   * index a majority already acknowledged, so such a leader would answer linearizable reads from
   * its old state until it steps down, while the others may have elected a new leader.
   */
  static boolean cutOff(RaftServer.Division d, long boundMs) {
    return d != null && d.getInfo().isLeader() && !fresh(d, boundMs);
  }

  /** The bound both judgements use: the election timeout's minimum. */
  static long boundMs(RaftProperties properties) {
    return RaftServerConfigKeys.Rpc.timeoutMin(properties).toLong(TimeUnit.MILLISECONDS);
  }

  /** A majority of {@code voters}, the leader included, responded within {@code boundMs}. */
  static boolean fresh(List<ServerRpcProto> followers, int voters, long boundMs) {
    int heard = 1; // the leader itself
    for (ServerRpcProto f : followers) {
      if (f.getLastRpcElapsedTimeMs() < boundMs) {
        heard++;
      }
    }
    return heard * 2 > Math.max(1, voters);
  }
}
