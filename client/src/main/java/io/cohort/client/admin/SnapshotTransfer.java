package io.cohort.client.admin;

import io.cohort.client.CohortClient;
import io.cohort.client.CohortException;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.CohortUnavailableException;
import io.cohort.client.ReadMode;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.SnapshotChunkQuery;
import io.cohort.statemachine.proto.SnapshotChunkView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Backups over the cluster connection, no shared disk: {@link #take} has the leader take a snapshot
 * now and waits until its file is durable; {@link #copy} fetches a node's newest snapshot file in
 * pieces of at most {@link #CHUNK_BYTES} (stale reads served by that node from its own disk, see
 * {@code Query.snapshot_chunk}) and checks the copy against the node's MD5 (Ratis' {@code .md5})
 * before a caller's check (the record digest, which needs the snapshot reader) and the rename into
 * place. A copy is written beside the target as {@code FILE.part} and never left behind.
 */
public final class SnapshotTransfer {
  public static final int CHUNK_BYTES = 1 << 20;
  private static final long PROGRESS_EVERY_NS = TimeUnit.SECONDS.toNanos(2);
  private static final long ASK_AGAIN_EVERY_NS = TimeUnit.SECONDS.toNanos(5);
  private static final int COPY_ATTEMPTS = 3;

  /** A snapshot taken: the node whose file covers at least {@code index}. */
  public record Taken(String peer, long index) {}

  /**
   * A snapshot copied off a node.
   *
   * @param md5 Ratis' MD5 of the file (hex), which the copy matched
   * @param sha256 the record digest the node read from the file's meta data
   */
  public record Copied(Path file, String peer, long term, long index, long bytes, String md5, String sha256,
      long records) {}

  /** A check of the complete copy before it is renamed into place; throw to refuse it. */
  @FunctionalInterface
  public interface Check {
    void check(Path copy, Copied what) throws IOException;
  }

  private SnapshotTransfer() {}

  /** {@link #take} then {@link #copy} from the node that took it, to a file that must not exist yet. */
  public static Copied save(ClusterAdmin admin, CohortClient client, Path target, Duration waitForFile,
      Check check, Consumer<String> progress) throws IOException {
    refuseExisting(target);
    Taken taken = take(admin, waitForFile, progress);
    return copy(client, taken.peer(), taken.index(), target, check, progress);
  }

  /**
   * Asks the leader (any reachable node when none leads) to take a snapshot now and waits until its
   * newest durable snapshot file covers at least what it had applied when asked. Asks again every
   * few seconds: a node still writing an older snapshot takes no new one meanwhile.
   */
  public static Taken take(ClusterAdmin admin, Duration waitForFile, Consumer<String> progress) {
    List<PeerStatus> before = admin.status();
    PeerStatus node = ClusterAdmin.leader(before)
        .or(() -> before.stream().filter(PeerStatus::reachable).findFirst())
        .orElseThrow(() -> new CohortUnavailableException("no peer answered", null));
    // the snapshot covers at least what the node had applied when asked (the reply may not say)
    long want = Math.max(admin.createSnapshot(node.id()), node.appliedIndex());
    progress.accept("snapshot requested on " + node.id() + " (covering index " + want + "); waiting for its file");
    long start = System.nanoTime();
    long deadline = start + waitForFile.toNanos();
    long nextProgress = start + PROGRESS_EVERY_NS;
    long nextAsk = start + ASK_AGAIN_EVERY_NS;
    long seen = -1;
    while (true) {
      PeerStatus now = admin.status().stream().filter(s -> s.id().equals(node.id())).findFirst().orElseThrow();
      seen = now.reachable() ? now.snapshotIndex() : seen;
      if (seen >= want) {
        return new Taken(node.id(), seen);
      }
      long t = System.nanoTime();
      if (t > deadline) {
        throw new CohortException("no snapshot file at index >= " + want + " on " + node.id() + " within "
            + waitForFile.toSeconds() + " s (newest: " + seen + ")", null);
      }
      if (t > nextAsk && now.reachable()) {
        admin.createSnapshot(node.id());
        nextAsk = t + ASK_AGAIN_EVERY_NS;
      }
      if (t > nextProgress) {
        progress.accept("  still writing on " + node.id() + " after " + TimeUnit.NANOSECONDS.toSeconds(t - start)
            + " s (newest snapshot file: index " + seen + ")");
        nextProgress = t + PROGRESS_EVERY_NS;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  /**
   * Copies {@code peer}'s newest snapshot, which must cover at least {@code minIndex}, to {@code
   * target}. Starts again (up to three times) if retention deletes the file during the copy.
   */
  public static Copied copy(CohortClient client, String peer, long minIndex, Path target, Check check,
      Consumer<String> progress) throws IOException {
    refuseExisting(target);
    Path part = target.resolveSibling(target.getFileName() + ".part");
    try {
      for (int attempt = 1; ; attempt++) {
        Copied copied = copyOnce(client, peer, minIndex, part, progress);
        if (copied == null) {
          if (attempt == COPY_ATTEMPTS) {
            throw new CohortException("the snapshot on " + peer + " was replaced " + attempt
                + " times while being copied; try again", null);
          }
          progress.accept("  the snapshot on " + peer + " was replaced by a newer one: copying that");
          continue;
        }
        check.check(part, copied);
        try {
          Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
          throw new CohortException(target + " appeared while copying: not overwritten", e);
        }
        fsyncDirectory(target.toAbsolutePath().getParent());
        return new Copied(target, copied.peer(), copied.term(), copied.index(), copied.bytes(), copied.md5(),
            copied.sha256(), copied.records());
      }
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /** One pass over the file; null when the node no longer has it (retention). */
  private static Copied copyOnce(CohortClient client, String peer, long minIndex, Path part,
      Consumer<String> progress) throws IOException {
    SnapshotChunkView first = chunk(client, peer, 0, 0, 0); // the newest; NOT_FOUND if it has none
    if (first.getIndex() < minIndex) {
      throw new CohortException("the newest snapshot on " + peer + " is at index " + first.getIndex()
          + ", below " + minIndex, null);
    }
    String name = "snapshot " + first.getTerm() + "_" + first.getIndex();
    long total = first.getFileBytes();
    progress.accept("copying " + name + " from " + peer + ": " + total + " bytes");
    MessageDigest md5 = md5();
    long start = System.nanoTime();
    long nextProgress = start + PROGRESS_EVERY_NS;
    try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      SnapshotChunkView c = first;
      long offset = 0;
      while (true) {
        if (c.getOffset() != offset || c.getFileBytes() != total || c.getTerm() != first.getTerm()
            || c.getIndex() != first.getIndex() || !c.getMd5().equals(first.getMd5())) {
          throw new CohortException(name + " on " + peer + " answered a piece that does not fit: offset "
              + c.getOffset() + " of " + c.getFileBytes() + " bytes, expected offset " + offset + " of " + total, null);
        }
        byte[] data = c.getData().toByteArray();
        md5.update(data);
        ByteBuffer buf = ByteBuffer.wrap(data);
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        offset += data.length;
        if (offset >= total) {
          break;
        }
        if (data.length == 0) {
          throw new CohortException(name + " on " + peer + " ended at " + offset + " of " + total + " bytes", null);
        }
        long t = System.nanoTime();
        if (t > nextProgress) {
          progress.accept("  copied " + offset + " of " + total + " bytes");
          nextProgress = t + PROGRESS_EVERY_NS;
        }
        c = chunk(client, peer, first.getTerm(), first.getIndex(), offset);
        if (c == null) {
          return null;
        }
      }
      out.force(true);
    }
    String actual = HexFormat.of().formatHex(md5.digest());
    if (!actual.equalsIgnoreCase(first.getMd5())) {
      throw new CohortException("the copy of " + name + " fails its MD5 checksum: " + actual + ", expected "
          + first.getMd5() + " (" + peer + "'s .md5)", null);
    }
    return new Copied(part, peer, first.getTerm(), first.getIndex(), total, first.getMd5(), first.getSha256(),
        first.getRecords());
  }

  /** One piece; null when the named snapshot is gone from the node (never for the newest, term = index = 0). */
  private static SnapshotChunkView chunk(CohortClient client, String peer, long term, long index, long offset) {
    Query q = Query.newBuilder().setSnapshotChunk(SnapshotChunkQuery.newBuilder().setTerm(term).setIndex(index)
        .setOffset(offset).setMaxBytes(CHUNK_BYTES)).build();
    QueryResult r = client.blocking().query(q, ReadMode.stale(peer));
    if (r.getCode() == Code.NOT_FOUND && (term != 0 || index != 0)) {
      return null;
    }
    if (r.getCode() != Code.OK) {
      throw new CohortRejectedException(r.getCode(), r.getMessage());
    }
    return r.getSnapshotChunk();
  }

  private static void refuseExisting(Path target) {
    if (Files.exists(target)) {
      throw new CohortException(target + " already exists: not overwritten", null);
    }
    Path dir = target.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new CohortException("no directory " + dir + " to save " + target.getFileName() + " in", null);
    }
  }

  private static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no MD5", e);
    }
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems cannot fsync a directory; the rename is still atomic
    }
  }
}
