package io.cohort.server;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * What a node reports as it works, for metrics (step 9). Implementations are called on Ratis'
 * threads (the apply thread for {@link #applied}, RPC threads for {@link #refused}): they must be
 * cheap, must not block and must not throw. Each reports nothing unless overridden.
 */
public interface NodeEvents {
  /** A command was applied (every replica, replay at start included); {@code BODY_NOT_SET} if it did not decode. */
  default void applied(Command.BodyCase command, Result result) {}

  /** The leader refused a command before the log (R9); {@code BODY_NOT_SET} if it did not decode. */
  default void refused(Command.BodyCase command, Code code) {}

  /** This node answered a quiet heartbeat (step 11): OK off the log, NEEDS_WRITE, or a refusal. */
  default void quietHeartbeat(Code code) {}

  /**
   * A quiet heartbeat was answered {@link OffLogLiveness#SLOW_WAIT_NANOS} or more after it arrived,
   * waiting for this leader's earlier writes (R2); {@code behind} is the oldest write pending when
   * it began to wait (null: not known).
   */
  default void quietHeartbeatWaitedLong(Command.BodyCase behind) {}

  /** This node learned of a new leader (Ratis' {@code notifyLeaderChanged}). */
  default void leaderChanged(RaftPeerId leader) {}

  /** A snapshot froze the state for {@code micros} on the apply thread. */
  default void snapshotPaused(long micros) {}

  /** A snapshot file became durable. */
  default void snapshotWritten(long millis, long bytes, long index) {}

  /** A snapshot was loaded (at start or after an install from the leader). */
  default void snapshotLoaded(long millis, long index) {}

  /** Reports nothing. */
  NodeEvents NONE = new NodeEvents() {};
}
