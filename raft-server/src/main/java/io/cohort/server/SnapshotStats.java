package io.cohort.server;

/** Timings of the latest snapshots, for logs, tests and benchmarks. */
public record SnapshotStats(long taken, long lastPauseMicros, long maxPauseMicros, long lastWriteMs,
    long lastBytes, long lastIndex, long loads, long lastLoadMs, long lastLoadIndex) {

  SnapshotStats paused(long micros) {
    return new SnapshotStats(taken, micros, Math.max(maxPauseMicros, micros), lastWriteMs, lastBytes,
        lastIndex, loads, lastLoadMs, lastLoadIndex);
  }

  SnapshotStats written(long ms, long bytes, long index) {
    return new SnapshotStats(taken + 1, lastPauseMicros, maxPauseMicros, ms, bytes, index, loads,
        lastLoadMs, lastLoadIndex);
  }

  SnapshotStats loaded(long ms, long index) {
    return new SnapshotStats(taken, lastPauseMicros, maxPauseMicros, lastWriteMs, lastBytes, lastIndex,
        loads + 1, ms, index);
  }
}
