package io.cohort.server;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogInfoProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;

/** Asks every peer for its Raft state through Ratis' group-info admin call; one row per peer. */
public final class ClusterStatus {
  /** One peer as it answered (or did not). Indexes are -1 when unknown. */
  public record PeerStatus(String id, String address, boolean reachable, String role, long term,
      long commitIndex, long appliedIndex, long snapshotIndex, String leader, String error) {}

  private ClusterStatus() {}

  public static List<PeerStatus> query(List<RaftPeer> peers, RaftGroupId groupId, long timeoutMs) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(timeoutMs, TimeUnit.MILLISECONDS));
    List<PeerStatus> out = new ArrayList<>();
    try (RaftClient client = RaftClient.newBuilder().setProperties(p)
        .setRaftGroup(RaftGroup.valueOf(groupId, peers)).setRetryPolicy(RetryPolicies.noRetry()).build()) {
      for (RaftPeer peer : peers) {
        out.add(ask(client, peer, groupId));
      }
    } catch (IOException e) {
      // closing the client failed: the answers are in already
    }
    return out;
  }

  private static PeerStatus ask(RaftClient client, RaftPeer peer, RaftGroupId groupId) {
    String id = peer.getId().toString();
    try {
      GroupInfoReply r = client.getGroupManagementApi(peer.getId()).info(groupId);
      RoleInfoProto role = r.getRoleInfoProto();
      LogInfoProto log = r.getLogInfoProto();
      long term = log.hasLastEntry() ? log.getLastEntry().getTerm() : -1;
      String leader = null;
      if (role.hasLeaderInfo()) {
        term = role.getLeaderInfo().getTerm();
        leader = id;
      } else if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()) {
        leader = role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8();
        leader = leader.isEmpty() ? null : leader;
      }
      return new PeerStatus(id, peer.getAddress(), true, role.getRole().name(), term,
          log.hasCommitted() ? log.getCommitted().getIndex() : -1,
          log.hasApplied() ? log.getApplied().getIndex() : -1,
          log.hasLastSnapshot() ? log.getLastSnapshot().getIndex() : -1, leader, null);
    } catch (IOException | RuntimeException e) {
      return new PeerStatus(id, peer.getAddress(), false, "UNREACHABLE", -1, -1, -1, -1, null,
          String.valueOf(e.getMessage()).lines().findFirst().orElse(e.getClass().getSimpleName()));
    }
  }

  /** Prints a table or JSON; exit code 0 when every peer answered and one leads, else 1. */
  public static int run(StatusOptions o, java.util.Map<String, String> env, PrintStream out, PrintStream err) {
    ServerOptions defaults = new ServerOptions();
    defaults.peers = o.peers;
    List<RaftPeer> peers;
    try {
      peers = Peers.parse(defaults.peersOrDefault(env));
    } catch (ConfigException e) {
      err.println("cohort cluster status: " + e.getMessage());
      return 2;
    }
    List<PeerStatus> status = query(peers, ServerConfig.DEFAULT_GROUP_ID, o.timeoutMs);
    boolean healthy = status.stream().allMatch(PeerStatus::reachable)
        && status.stream().anyMatch(s -> "LEADER".equals(s.role()));
    if (o.json) {
      out.println(toJson(status));
    } else {
      out.printf("%-6s %-22s %-11s %6s %9s %9s %9s  %s%n", "PEER", "ADDRESS", "ROLE", "TERM", "COMMIT",
          "APPLIED", "SNAPSHOT", "REACHABLE");
      for (PeerStatus s : status) {
        out.printf("%-6s %-22s %-11s %6s %9s %9s %9s  %s%n", s.id(), s.address(), s.role(), num(s.term()),
            num(s.commitIndex()), num(s.appliedIndex()), num(s.snapshotIndex()),
            s.reachable() ? "yes" : "no (" + s.error() + ")");
      }
    }
    return healthy ? 0 : 1;
  }

  private static String num(long v) {
    return v < 0 ? "-" : Long.toString(v);
  }

  static String toJson(List<PeerStatus> status) {
    StringBuilder b = new StringBuilder("{\"peers\":[");
    String leader = null;
    for (int i = 0; i < status.size(); i++) {
      PeerStatus s = status.get(i);
      if ("LEADER".equals(s.role())) {
        leader = s.id();
      }
      b.append(i == 0 ? "" : ",").append('{')
          .append("\"id\":").append(str(s.id()))
          .append(",\"address\":").append(str(s.address()))
          .append(",\"reachable\":").append(s.reachable())
          .append(",\"role\":").append(str(s.role()))
          .append(",\"term\":").append(s.term() < 0 ? "null" : s.term())
          .append(",\"commitIndex\":").append(s.commitIndex() < 0 ? "null" : s.commitIndex())
          .append(",\"appliedIndex\":").append(s.appliedIndex() < 0 ? "null" : s.appliedIndex())
          .append(",\"snapshotIndex\":").append(s.snapshotIndex() < 0 ? "null" : s.snapshotIndex())
          .append(",\"leader\":").append(str(s.leader()))
          .append(",\"error\":").append(str(s.error()))
          .append('}');
    }
    return b.append("],\"leader\":").append(str(leader)).append('}').toString();
  }

  static String str(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
