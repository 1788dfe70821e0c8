package io.cohort.server;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' log worker failing to write or flush (a full or broken disk, RATIS-NOTES F): it fails
 * every later write too and keeps the division open, so the node answers heartbeats but never
 * catches up, silently. Kept here so {@code /readyz} and {@code cohort_raft_log_failed} show it (a
 * later step stops the node: not ready first, then exit).
 */
final class LogFailures {
  private static final Logger LOG = LoggerFactory.getLogger(LogFailures.class);

  private final AtomicReference<LogFailure> first = new AtomicReference<>();
  private volatile IOException injectedFlushFailure;

  /** Ratis' {@code notifyLogFailed}: one ERROR line for the first failure, DEBUG for the ones after it. */
  void failed(String node, Throwable cause, LogEntryProto failedEntry) {
    LogFailure failure = new LogFailure(failedEntry == null ? -1 : failedEntry.getIndex(), String.valueOf(cause));
    if (!first.compareAndSet(null, failure)) {
      LOG.debug("[{}] {}", node, failure.describe());
      return;
    }
    LOG.error("[{}] {}: this node can no longer persist entries; restart it once the disk is fixed", node,
        failure.describe(), cause);
  }

  LogFailure first() {
    return first.get();
  }

  /** Ratis' log worker waits for this after each flush of the log (sync state machine data policy). */
  CompletableFuture<Void> flush() {
    IOException injected = injectedFlushFailure;
    return injected == null ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(injected);
  }

  /** Tests: from now on the log worker's flushes fail with {@code cause}, as on a full disk. */
  void injectFlushFailure(IOException cause) {
    injectedFlushFailure = cause;
  }
}
