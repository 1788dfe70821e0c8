package io.cohort.client.admin;

/**
 * One peer's Raft state as it answered Ratis' group-info call, or why it did not. Numbers are -1
 * when unknown (the peer did not answer, or has no such entry yet).
 *
 * @param role LEADER, FOLLOWER, CANDIDATE, LISTENER, or UNREACHABLE
 * @param leader the leader's id as this peer knows it, or null
 * @param error why the peer did not answer (one line), or null
 * @param lag how far this peer's commit index is behind the leader's, as the leader last heard
 *     from it (-1 when no leader reported it)
 * @param membership what the leader's configuration says of this peer
 * @param conf the voters of the configuration this peer itself holds ({@code n1,n2,n3}; null if
 *     it did not answer, empty if it holds none, as a node started with {@code --join})
 * @param listed whether the operator named this peer ({@code --peers}); false for a member found
 *     only in the leader's configuration
 */
public record PeerStatus(String id, String address, boolean reachable, String role, long term,
    long commitIndex, long appliedIndex, long snapshotIndex, String leader, String error,
    long lag, Membership membership, String conf, boolean listed) {

  public static final String UNREACHABLE = "UNREACHABLE";

  /** A peer's place in the leader's configuration. */
  public enum Membership {
    /** A voter of the current configuration (or of the old one, during a joint configuration). */
    MEMBER,
    /** A non-voting listener. */
    LISTENER,
    /** Being caught up by the leader before a configuration that adds it is committed. */
    STAGING,
    /** Not in the leader's configuration: removed, or waiting to be added. */
    NOT_MEMBER,
    /** No leader answered. */
    UNKNOWN
  }

  public boolean isLeader() {
    return "LEADER".equals(role);
  }

  PeerStatus with(long lag, Membership membership, boolean listed) {
    return new PeerStatus(id, address, reachable, role, term, commitIndex, appliedIndex, snapshotIndex, leader, error,
        lag, membership, conf, listed);
  }

  static PeerStatus unreachable(String id, String address, String error) {
    return new PeerStatus(id, address, false, UNREACHABLE, -1, -1, -1, -1, null, error, -1, Membership.UNKNOWN, null,
        true);
  }
}
