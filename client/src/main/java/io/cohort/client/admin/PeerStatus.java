package io.cohort.client.admin;

/**
 * One peer's Raft state as it answered Ratis' group-info call, or why it did not. Numbers are -1
 * when unknown (the peer did not answer, or has no such entry yet).
 *
 * @param role LEADER, FOLLOWER, CANDIDATE, LISTENER, or UNREACHABLE
 * @param leader the leader's id as this peer knows it, or null
 * @param error why the peer did not answer (one line), or null
 */
public record PeerStatus(String id, String address, boolean reachable, String role, long term,
    long commitIndex, long appliedIndex, long snapshotIndex, String leader, String error) {

  public static final String UNREACHABLE = "UNREACHABLE";

  public boolean isLeader() {
    return "LEADER".equals(role);
  }

  static PeerStatus unreachable(String id, String address, String error) {
    return new PeerStatus(id, address, false, UNREACHABLE, -1, -1, -1, -1, null, error);
  }
}
