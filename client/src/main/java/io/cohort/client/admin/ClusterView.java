package io.cohort.client.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The cluster as {@code cluster status} shows it: every peer the operator listed and every member
 * of the leader's configuration, with each one's lag behind the leader's commit index and its
 * place in the configuration.
 *
 * @param leader the peer that leads (the highest term among those that say so), or null
 * @param conf the leader's configuration, or null without a leader
 * @param leaderCommit the leader's commit index (-1 without a leader)
 * @param staging peers the leader is catching up before a configuration that adds them commits
 */
public record ClusterView(List<PeerStatus> peers, String leader, RaftConf conf, long leaderCommit,
    List<String> staging) {

  public ClusterView {
    peers = List.copyOf(peers);
    staging = List.copyOf(staging);
  }

  public Optional<PeerStatus> peer(String id) {
    return peers.stream().filter(p -> p.id().equals(id)).findFirst();
  }

  /**
   * What is wrong, one line each; empty when every listed peer and every member answers, is a
   * member, and is at most {@code maxLag} entries behind the leader.
   */
  public List<String> problems(long maxLag) {
    List<String> out = new ArrayList<>();
    if (leader == null) {
      out.add("no leader");
    }
    for (PeerStatus p : peers) {
      if (p.lag() > maxLag) {
        out.add(p.id() + " is " + p.lag() + " entries behind the leader (more than " + maxLag + ")");
      }
      if (!p.reachable()) {
        out.add(p.id() + " does not answer (" + p.error() + ")");
        continue;
      }
      switch (p.membership()) {
        case NOT_MEMBER -> out.add(p.id() + " is not a member of the configuration (" + conf.describe() + ")");
        case STAGING -> out.add(p.id() + " is being added (the leader is catching it up)");
        default -> {
        }
      }
    }
    if (conf != null && conf.joint()) {
      out.add("a configuration change is in progress (" + conf.describe() + ")");
    }
    return out;
  }

  public boolean healthy(long maxLag) {
    return problems(maxLag).isEmpty();
  }
}
