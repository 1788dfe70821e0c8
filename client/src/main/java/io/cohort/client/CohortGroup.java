package io.cohort.client;

import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;

/** The Ratis group every Cohort cluster runs: one well-known id, shared by servers and clients. */
public final class CohortGroup {
  /** The id's UUID; the server side must use the same value. */
  public static final UUID UUID_VALUE = UUID.fromString("c0402700-0000-4000-8000-000000000001");

  public static final RaftGroupId ID = RaftGroupId.valueOf(UUID_VALUE);

  private CohortGroup() {}
}
