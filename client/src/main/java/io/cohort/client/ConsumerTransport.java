package io.cohort.client;

import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.LimitsRecord;
import java.util.concurrent.CompletableFuture;

/**
 * The calls a {@link GroupConsumer} makes; {@link CohortClient} is the real one, tests plug in the
 * coordinator core directly. Failures are {@link CohortException}s.
 */
interface ConsumerTransport {
  CompletableFuture<HeartbeatResult> heartbeat(Heartbeat heartbeat);

  CompletableFuture<CommitResult> commit(CommitCheckpoints commit);

  CompletableFuture<CommitResult> leave(Leave leave);

  /** The cluster's per-request limits (R9); the consumer sizes its commands under them. */
  CompletableFuture<LimitsRecord> limits();

  /**
   * Step 11: a heartbeat the leader answers off the log when it would change nothing; fails with
   * NEEDS_WRITE (or any other failure) when it must go through the log. Null when this transport
   * cannot send one: every heartbeat goes through {@link #heartbeat}. {@code sessionTimeoutMs}: the
   * member's session timeout, which bounds how long the call may wait on a node that does not answer.
   */
  default CompletableFuture<HeartbeatResult> quietHeartbeat(Heartbeat heartbeat, long sessionTimeoutMs) {
    return null;
  }

  /** R12: the channels a consumer's watch goes through; null when this transport has none. */
  default WatchChannel watchChannel() {
    return null;
  }
}
