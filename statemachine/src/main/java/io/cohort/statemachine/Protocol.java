package io.cohort.statemachine;

import java.util.UUID;

/** Constants both ends of the wire must agree on. */
public final class Protocol {
  /** The Raft group every Cohort cluster runs: servers and clients build their RaftGroupId from it. */
  public static final UUID RAFT_GROUP_UUID = UUID.fromString("436f686f-7274-4000-8000-000000000001");

  /** A reader error's message, in UTF-8 bytes (step 9): the client cuts longer ones, the leader refuses them. */
  public static final int MAX_ERROR_MESSAGE_BYTES = 256;

  /**
   * Renewals in one Tick (step 11). The leader also keeps a tick's bytes well under the command
   * limit (a renewal with the longest names is about 550 bytes) and carries the rest to the next tick.
   */
  public static final int MAX_RENEWALS_PER_TICK = 2_000;

  private Protocol() {}
}
