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
    /** {@link #newestOnDisk} when the directory was last cleaned up. */
    private long cleanedAt = Long.MIN_VALUE;

    /**
     * Ratis (apply thread, after every {@link #take}) and our writer both clean up. A scan of the
     * directory when no snapshot was written since the last one would find nothing new to delete:
     * skipped, as Ratis calls this on every apply while a write runs.
     */
    @Override
    public synchronized void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
      long newest = newestOnDisk;
      if (newest == cleanedAt) {
        return;
      }
      super.cleanupOldSnapshots(policy);
      cleanedAt = newest;
    }
  };
  private SnapshotRetentionPolicy retention = retained(SnapshotRetentionPolicy.DEFAULT_ALL_SNAPSHOTS_RETAINED);
  /** Ratis' automatic snapshot threshold in entries (0: none). */
  private long autoEveryEntries;
  private ExecutorService writer;

  // Touched on the apply thread, and by pause (RPC thread) and close.
  private volatile Future<SnapshotWriter.Written> inFlight;
  private volatile long reportedIndex = RaftLog.INVALID_LOG_INDEX;
  private volatile long durableIndex = RaftLog.INVALID_LOG_INDEX;
  /** The newest snapshot file written or loaded (the writer's view, ahead of durableIndex). */
  private volatile long newestOnDisk = RaftLog.INVALID_LOG_INDEX;
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

  /** @param autoEveryEntries Ratis' automatic snapshot threshold, 0 when automatic snapshots are off */
  void init(RaftStorage raftStorage, int retainedFiles, long autoEveryEntries) throws IOException {
    retention = retained(retainedFiles);
    this.autoEveryEntries = autoEveryEntries;
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
   * On the apply thread. {@code freeze} runs under the state lock. Never waits for a write: an
   * explicit request (admin, or at stop) returns like an automatic one, and its file becomes
   * durable in the background (close waits for it).
   *
   * <p>Ratis asks on every apply while the applied index is a threshold past the last index it was
   * told (an automatic ask). The first ask starts a write and each ask while it runs is told
   * nothing new ({@link RaftLog#INVALID_LOG_INDEX}: Ratis neither logs nor purges); the ask that
   * finds it durable returns its index and starts nothing, so Ratis stops asking until the next
   * threshold. (Starting a write there, as before, wrote every snapshot twice, ~1,000 entries
   * apart.) Any other call — an explicit request, at stop — starts a write if none runs and returns
   * the newest durable index.
   */
  long take(TermIndex applied, Supplier<FrozenState> freeze) throws IOException {
    boolean automatic = autoEveryEntries > 0 && applied.getIndex() - reportedIndex >= autoEveryEntries;
    if (collect(false) && automatic) {
      return report(durableIndex, true);
    }
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
    return report(durableIndex, automatic);
  }

  /** What Ratis is told: a newer durable index once; the same one again only when not automatic. */
  private long report(long index, boolean automatic) {
    if (index <= reportedIndex) {
      return index == reportedIndex && !automatic ? index : RaftLog.INVALID_LOG_INDEX;
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
      newestOnDisk = Math.max(newestOnDisk, ti.getIndex());
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

  /**
   * Picks up a finished background write; with {@code wait}, waits for a running one first.
   * Returns whether it picked one up.
   */
  private boolean collect(boolean wait) throws IOException {
    Future<SnapshotWriter.Written> f = inFlight;
    if (f == null || (!wait && !f.isDone())) {
      return false;
    }
    inFlight = null;
    try {
      SnapshotWriter.Written w = wait ? f.get(explicitWaitMs, TimeUnit.MILLISECONDS) : f.get();
      durableIndex = Math.max(durableIndex, w.index());
      return true;
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
    newestOnDisk = Math.max(newestOnDisk, info.getIndex());
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
