package io.cohort.client;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.ReaderError;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a consumer keeps about one partition it holds: its grant, where its handoff stands, its
 * read position, the checkpoint not yet acknowledged and who waits for it. Owned by
 * {@link ConsumerState} (one thread).
 */
final class HeldPartition {
  enum Phase {
    /** Being read (or paused while the session is at risk). */
    RUNNING,
    /** Told to release: its reader is stopping. */
    STOPPING,
    /** Its reader stopped: the next heartbeat carries its final checkpoint and omits it. */
    RELEASED
  }

  /** A future completed once the checkpoint with sequence number {@code seq} (or a later one) is acknowledged. */
  record Waiter(long seq, CompletableFuture<Void> future) {}

  PartitionGrant grant;
  Phase phase = Phase.RUNNING;
  /** Stopped while the session is at risk or the consumer winds down; resumes if still ours. */
  boolean paused;
  /** The latest processed position (what a resumed reader starts from). */
  String position;
  /** Latest checkpoint not yet acknowledged; null when all is committed. */
  CheckpointEntry pending;
  /** The sequence number of {@link #pending}: each new pending checkpoint gets the next. */
  long pendingSeq;
  /** The pending entry as last sent (awaiting its answer); newer progress is unsent again. */
  CheckpointEntry sent;
  /** When the oldest progress not yet sent was recorded. */
  long pendingSinceMs;
  String ackedCursor;
  /** The position at which the reader saw the end of this sealed partition, if it did. */
  String endSeen;
  /** The reader's last view of its lag, for checkpoints acknowledged later. */
  Long lag;
  Long lagMs;
  /** The reader's latest failure, to report with the next heartbeat or commit (step 9); null: none. */
  ReaderError pendingError;
  /** Held, but not read: the poison policy stopped it at this position and it came back there. */
  boolean parked;
  private long seq;
  private final List<Waiter> waiters = new ArrayList<>();

  HeldPartition(PartitionGrant grant) {
    this.grant = grant;
    this.position = grant.cursor();
    this.ackedCursor = grant.cursor();
  }

  PartitionId id() {
    return grant.id();
  }

  /** A newer checkpoint to commit; it replaces an older one that was not acknowledged yet. */
  void setPending(CheckpointEntry e, long nowMs) {
    if (pending == null || pending == sent) {
      pendingSinceMs = nowMs;
    }
    pending = e;
    pendingSeq = ++seq;
  }

  /** A future for the pending checkpoint (completed at once when nothing is pending). */
  CompletableFuture<Void> waitForPending() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (pending == null) {
      f.complete(null);
    } else {
      waiters.add(new Waiter(pendingSeq, f));
    }
    return f;
  }

  /** Removes and returns the waiters for checkpoints up to {@code upTo}. */
  List<CompletableFuture<Void>> takeWaiters(long upTo) {
    List<CompletableFuture<Void>> out = new ArrayList<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.seq() <= upTo) {
        out.add(w.future());
        it.remove();
      }
    }
    return out;
  }

  List<CompletableFuture<Void>> takeAllWaiters() {
    return takeWaiters(Long.MAX_VALUE);
  }
}
