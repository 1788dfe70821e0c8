package io.cohort.client;

import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * The Ratis group every Cohort cluster runs: one well-known id, shared by servers and clients. It
 * equals the server's {@code ServerConfig.DEFAULT_GROUP_ID} ("Cohort" in hex); the client does not
 * depend on the server module, so the value is repeated here.
 */
public final class CohortGroup {
  /** The id's UUID; the server side must use the same value. */
  public static final UUID UUID_VALUE = UUID.fromString("436f686f-7274-4000-8000-000000000001");

  public static final RaftGroupId ID = RaftGroupId.valueOf(UUID_VALUE);

  private CohortGroup() {}
}
