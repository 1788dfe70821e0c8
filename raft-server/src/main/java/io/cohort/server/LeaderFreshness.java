package io.cohort.server;

import java.util.List;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.server.RaftServer;

/**
 * Whether this node, as leader, heard from a majority recently (RATIS-NOTES C.4): Ratis keeps a
 * leader that keeps appending (its own ticks) in office even when cut off from every follower, so
 * {@code isLeader()} alone does not say the cluster follows it. Counts itself and each follower
 * whose last response is younger than {@code boundMs} (the election timeout's minimum). Sampled
 * by a background task, never per request; the watch (R12) is answered only while it holds.
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
