package io.cohort.client;

/** Why a partition's reader stopped. */
public enum RevokeReason {
  /** The coordinator moves it to another consumer (R2); its final checkpoint is committed. */
  RELEASED,
  /** Read to the end of a sealed partition and committed {@code finished}. */
  FINISHED,
  /** Its epoch changed (an admin reset, R3): it restarts from the new cursor. */
  RESET,
  /** A commit was fenced or the coordinator no longer lists it as ours: dropped at once. */
  FENCED,
  /** No successful heartbeat for the session timeout minus the margin: paused, resumes if the session is still alive. */
  SESSION_AT_RISK,
  /** The session expired or the group is gone: the consumer joins again. */
  SESSION_LOST,
  /** Another process joined with the same consumer id and took over this session. */
  CONSUMER_FENCED,
  /** The consumer is closing. */
  CLOSED,
  /** The same batch kept failing and the {@link PoisonPolicy} stops: the partition is released. */
  POISONED
}
