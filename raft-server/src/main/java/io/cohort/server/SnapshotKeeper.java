package io.cohort.server;

import io.cohort.server.snapshot.CorruptSnapshotException;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.snapshot.SnapshotMeta;
import io.cohort.server.snapshot.SnapshotWriter;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine's snapshots: taking them without stalling applies, and loading the newest.
 *
 * <p>{@link #take} runs on the apply thread: it freezes the state (the only pause), hands the copy
 * to a background writer (MapDB file, fsync, rename, MD5, then {@code updateLatestSnapshot} so
 * Ratis can ship it), and returns the newest index that is durable — never less than an index
 * returned before, or {@link RaftLog#INVALID_LOG_INDEX} when there is nothing new (Ratis then
 * neither logs nor purges). Ratis purges the log only behind what was returned, so only behind a
 * file on disk.
 *
 * <p>A snapshot asked for explicitly (an admin request, or at stop) is taken the same way: the
 * apply thread never waits for a write (waiting stalled every apply for the whole write, ~2 s at
 * 1M checkpoints). Its caller learns the durable index from the storage's latest snapshot.
 */
final class SnapshotKeeper implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotKeeper.class);

  /** A snapshot loaded into a fresh coordinator, and the Raft position it covers. */
  record Loaded(Coordinator coordinator, TermIndex termIndex) {}

  private volatile String name;
  private final long explicitWaitMs;
  private final NodeEvents events;
  private final java.util.function.BiConsumer<String, Throwable> writeFailed;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage() {
    @Override
    public synchronized void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
      super.cleanupOldSnapshots(policy); // Ratis (apply thread) and our writer both clean up
    }
  };
  private SnapshotRetentionPolicy retention = retained(SnapshotRetentionPolicy.DEFAULT_ALL_SNAPSHOTS_RETAINED);
  private ExecutorService writer;

  // Touched on the apply thread, and by pause (RPC thread) and close.
  private volatile Future<SnapshotWriter.Written> inFlight;
  private volatile long reportedIndex = RaftLog.INVALID_LOG_INDEX;
  private volatile long durableIndex = RaftLog.INVALID_LOG_INDEX;
  private final AtomicReference<SnapshotStats> stats =
      new AtomicReference<>(new SnapshotStats(0, 0, 0, 0, 0, -1, 0, 0, -1));

  /** @param writeFailed told of a snapshot file that could not be written (the node fail-stops) */
  SnapshotKeeper(String name, long explicitWaitMs, NodeEvents events,
      java.util.function.BiConsumer<String, Throwable> writeFailed) {
    this.name = name;
    this.explicitWaitMs = explicitWaitMs;
    this.events = events;
    this.writeFailed = writeFailed;
  }

  /** The node's id, for logs and thread names, once Ratis told it. */
  void rename(String nodeName) {
    this.name = nodeName;
  }

  void init(RaftStorage raftStorage, int retainedFiles) throws IOException {
    retention = retained(retainedFiles);
    writer = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "cohort-snapshot-" + name);
      t.setDaemon(true);
      return t;
    });
    storage.init(raftStorage);
    deleteUnfinishedWrites(raftStorage.getStorageDir().getStateMachineDir().toPath());
  }

  /** A crash during a write leaves {@code snapshot.T_I.tmp}: never complete, never used. */
  private void deleteUnfinishedWrites(Path smDir) throws IOException {
    if (!Files.isDirectory(smDir)) {
      return;
    }
    try (var files = Files.newDirectoryStream(smDir, "snapshot.*.tmp")) {
      for (Path tmp : files) {
        LOG.info("[{}] deleting unfinished snapshot write {}", name, tmp.getFileName());
        Files.deleteIfExists(tmp);
      }
    }
  }

  SimpleStateMachineStorage storage() {
    return storage;
  }

  SnapshotStats stats() {
    return stats.get();
  }

  /**
   * On the apply thread, every apply complete. {@code freeze} runs under the state lock. Never
   * waits for a write: an explicit request (admin, or at stop) returns like an automatic one, and
   * its file becomes durable in the background (close waits for it).
   */
  long take(TermIndex applied, Supplier<FrozenState> freeze) throws IOException {
    collect(false);
    if (inFlight == null && applied.getIndex() > Math.max(durableIndex, 0)) {
      long t0 = System.nanoTime();
      FrozenState frozen = freeze.get();
      long pauseMicros = (System.nanoTime() - t0) / 1000;
      stats.updateAndGet(st -> st.paused(pauseMicros));
      events.snapshotPaused(pauseMicros);
      Path target = storage.getSnapshotFile(applied.getTerm(), applied.getIndex()).toPath();
      LOG.info("[{}] snapshot at {}: state frozen in {} us, writing {}", name, applied, pauseMicros,
          target.getFileName());
      inFlight = writer.submit(() -> write(frozen, applied, target));
    }
    return report(durableIndex);
  }

  private long report(long index) {
    if (index <= reportedIndex) {
      return index == reportedIndex ? index : RaftLog.INVALID_LOG_INDEX;
    }
    reportedIndex = index;
    return index;
  }

  /**
   * Background: write, MD5 sidecar, then tell the storage (Ratis ships this file to followers). The
   * sidecar is written before the file is renamed into place: a scan of {@code sm/} (Ratis caches
   * the newest snapshot it finds, and reports it in its group info) never finds it without one.
   */
  private SnapshotWriter.Written write(FrozenState frozen, TermIndex ti, Path target) throws IOException {
    long t0 = System.nanoTime();
    try {
      MD5Hash[] md5 = new MD5Hash[1];
      SnapshotWriter.Written w = SnapshotWriter.write(frozen, ti.getTerm(), ti.getIndex(), target,
          System.currentTimeMillis(), written -> {
            md5[0] = MD5FileUtil.computeMd5ForFile(written.toFile());
            MD5FileUtil.saveMD5File(target.toFile(), md5[0]);
          });
      storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(target, md5[0]), ti));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      stats.updateAndGet(st -> st.written(ms, w.bytes(), ti.getIndex()));
      events.snapshotWritten(ms, w.bytes(), ti.getIndex());
      // Ratis cleans up when take() returns, before this file existed: clean up again.
      storage.cleanupOldSnapshots(retention);
      LOG.info("[{}] snapshot {} durable: {} records, {} bytes, written in {} ms", name,
          target.getFileName(), w.records(), w.bytes(), ms);
      return w;
    } catch (IOException | RuntimeException e) {
      LOG.error("[{}] snapshot {} failed: {}", name, target.getFileName(), e.toString(), e);
      writeFailed.accept(target.getFileName().toString(), e);
      throw e;
    }
  }

  /** Picks up a finished background write; with {@code wait}, waits for a running one first. */
  private void collect(boolean wait) throws IOException {
    Future<SnapshotWriter.Written> f = inFlight;
    if (f == null || (!wait && !f.isDone())) {
      return;
    }
    inFlight = null;
    try {
      SnapshotWriter.Written w = wait ? f.get(explicitWaitMs, TimeUnit.MILLISECONDS) : f.get();
      durableIndex = Math.max(durableIndex, w.index());
    } catch (TimeoutException e) {
      inFlight = f;
      throw new IOException(name + ": snapshot still being written after " + explicitWaitMs + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(name + ": interrupted waiting for a snapshot", e);
    } catch (ExecutionException e) {
      throw new IOException(name + ": snapshot failed: " + e.getCause(), e.getCause());
    }
  }

  /** Waits for a running write (before Ratis replaces the sm/ dir, and at close). */
  void awaitInFlight() {
    if (inFlight == null) {
      return;
    }
    try {
      collect(true);
    } catch (IOException e) {
      LOG.warn("[{}] {}", name, e.getMessage());
    }
  }

  /**
   * Loads the newest snapshot in {@code sm/} (at start and after Ratis installed one from the
   * leader), or returns null when there is none. A snapshot that fails its MD5 or checksum stops
   * the load with a {@link CorruptSnapshotException}: falling back to an older one could miss log
   * entries already purged.
   */
  Loaded loadLatest(Limits limits) throws IOException {
    SingleFileSnapshotInfo info = storage.loadLatestSnapshot();
    if (info == null) {
      LOG.info("[{}] no snapshot: starting from an empty state", name);
      return null;
    }
    Path path = info.getFile().getPath();
    if (!Files.exists(path)) {
      throw new CorruptSnapshotException(path, "is listed but missing");
    }
    long t0 = System.nanoTime();
    MD5Hash stored = info.getFile().getFileDigest();
    if (stored != null) {
      MD5Hash actual = MD5FileUtil.computeMd5ForFile(path.toFile());
      if (!stored.equals(actual)) {
        throw new CorruptSnapshotException(path, "fails its MD5 checksum: " + actual + ", expected " + stored);
      }
    }
    Coordinator loaded;
    long records;
    try (SnapshotFile file = SnapshotFile.open(path)) {
      SnapshotMeta meta = file.meta();
      if (meta.index() != info.getIndex() || meta.term() != info.getTerm()) {
        throw new CorruptSnapshotException(path, "says term " + meta.term() + " index " + meta.index()
            + " but is named " + path.getFileName());
      }
      loaded = file.load(limits);
      records = meta.records();
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    durableIndex = info.getIndex();
    reportedIndex = Math.max(reportedIndex, info.getIndex());
    stats.updateAndGet(st -> st.loaded(ms, info.getIndex()));
    events.snapshotLoaded(ms, info.getIndex());
    LOG.info("[{}] loaded snapshot {} ({} records) in {} ms", name, path.getFileName(), records, ms);
    return new Loaded(loaded, info.getTermIndex());
  }

  @Override
  public void close() {
    awaitInFlight();
    if (writer != null) {
      writer.shutdownNow();
    }
  }

  private static SnapshotRetentionPolicy retained(int n) {
    return new SnapshotRetentionPolicy() {
      @Override
      public int getNumSnapshotsRetained() {
        return n;
      }
    };
  }
}
