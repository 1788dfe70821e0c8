package io.cohort.client;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.LimitsRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A {@link LocalCoordinator} with faults a test switches on: heartbeats answered FENCED (as the
 * leader answers a replaced session), and the leader's refusal of commands over a size or entry
 * limit (LIMIT_EXCEEDED before the log, R9). It records every command sent and every refusal, and
 * can report other limits than the ones it enforces (a client that was not told).
 */
final class ScriptedTransport implements ConsumerTransport {
  private final LocalCoordinator target;
  final List<Command> sent = new CopyOnWriteArrayList<>();
  final List<Command> refused = new CopyOnWriteArrayList<>();
  volatile boolean fenceHeartbeats;
  /** Heartbeats still to shed with RETRY_LATER (as an overloaded leader does), and when each was sent (ms). */
  final java.util.concurrent.atomic.AtomicInteger shedHeartbeats = new java.util.concurrent.atomic.AtomicInteger();
  final List<Long> shedAtMs = new CopyOnWriteArrayList<>();
  volatile long retryAfterMs = 300;
  volatile int maxEntries = Integer.MAX_VALUE;
  volatile int maxBytes = Integer.MAX_VALUE;
  volatile LimitsRecord reportedLimits;

  ScriptedTransport(LocalCoordinator target) {
    this.target = target;
  }

  long sentOf(Command.BodyCase kind) {
    return sent.stream().filter(c -> c.getBodyCase() == kind).count();
  }

  private static int entries(Command c) {
    return switch (c.getBodyCase()) {
      case HEARTBEAT -> c.getHeartbeat().getCommitsCount();
      case COMMIT_CHECKPOINTS -> c.getCommitCheckpoints().getEntriesCount();
      case LEAVE -> c.getLeave().getCommitsCount();
      default -> 0;
    };
  }

  private <T> CompletableFuture<T> send(Command c, Supplier<CompletableFuture<T>> call) {
    sent.add(c);
    if (entries(c) > maxEntries || c.getSerializedSize() > maxBytes) {
      refused.add(c);
      return CompletableFuture.failedFuture(new CohortRejectedException(Code.LIMIT_EXCEEDED,
          "a command is at most " + maxBytes + " bytes and " + maxEntries + " entries"));
    }
    if (c.hasHeartbeat() && shedHeartbeats.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      refused.add(c);
      shedAtMs.add(System.nanoTime() / 1_000_000);
      return CompletableFuture.failedFuture(new CohortRejectedException(Code.RETRY_LATER,
          "retry after " + retryAfterMs + " ms: the leader is overloaded (test)"));
    }
    if (c.hasHeartbeat() && fenceHeartbeats) {
      return CompletableFuture.failedFuture(new CohortRejectedException(Code.FENCED, "session replaced (test)"));
    }
    return call.get();
  }

  /** When set, replicated heartbeats wait for it (a write path queued behind other writes) before going out. */
  volatile CompletableFuture<Void> holdHeartbeats;

  @Override
  public CompletableFuture<HeartbeatResult> heartbeat(Heartbeat heartbeat) {
    CompletableFuture<Void> hold = holdHeartbeats;
    if (hold != null) {
      return hold.thenCompose(v -> heartbeat(heartbeat));
    }
    return send(Command.newBuilder().setHeartbeat(heartbeat).build(), () -> target.heartbeat(heartbeat));
  }

  /** Quiet heartbeats sent (also in {@link #sent}, as heartbeats); when set, each is refused with this code. */
  final List<Heartbeat> quiet = new CopyOnWriteArrayList<>();
  volatile Code quietRefusal;
  /** The quiet refusal's message instead of the default. */
  volatile String quietRefusalMessage;

  @Override
  public CompletableFuture<HeartbeatResult> quietHeartbeat(Heartbeat heartbeat, long sessionTimeoutMs) {
    sent.add(Command.newBuilder().setHeartbeat(heartbeat).build());
    quiet.add(heartbeat);
    if (fenceHeartbeats) {
      return CompletableFuture.failedFuture(new CohortRejectedException(Code.FENCED, "session replaced (test)"));
    }
    Code refusal = quietRefusal;
    if (refusal != null) {
      String message = quietRefusalMessage;
      return CompletableFuture.failedFuture(new CohortRejectedException(refusal, message != null ? message
          : (refusal == Code.RETRY_LATER ? "retry after " + retryAfterMs + " ms: " : "") + "refused quietly (test)"));
    }
    return target.quietHeartbeat(heartbeat, sessionTimeoutMs);
  }

  @Override
  public CompletableFuture<CommitResult> commit(CommitCheckpoints commit) {
    return send(Command.newBuilder().setCommitCheckpoints(commit).build(), () -> target.commit(commit));
  }

  @Override
  public CompletableFuture<CommitResult> leave(Leave leave) {
    return send(Command.newBuilder().setLeave(leave).build(), () -> target.leave(leave));
  }

  @Override
  public CompletableFuture<LimitsRecord> limits() {
    LimitsRecord r = reportedLimits;
    return r != null ? CompletableFuture.completedFuture(r) : target.limits();
  }
}
