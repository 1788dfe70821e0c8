package io.cohort.client;

import io.cohort.statemachine.Protocol;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * The Ratis group every Cohort cluster runs: one well-known id ({@link Protocol#RAFT_GROUP_UUID},
 * "Cohort" in hex), shared by servers and clients.
 */
public final class CohortGroup {
  public static final RaftGroupId ID = RaftGroupId.valueOf(Protocol.RAFT_GROUP_UUID);

  private CohortGroup() {}
}
