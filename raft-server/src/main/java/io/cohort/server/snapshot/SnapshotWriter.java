package io.cohort.server.snapshot;

import static io.cohort.server.snapshot.SnapshotLayout.*;

import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.StateRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.Map;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * Writes a frozen state into one MapDB file (see {@link SnapshotLayout}): a temp file beside the
 * target, fsync, atomic rename, fsync of the directory. Runs on any thread; the frozen state is an
 * independent copy.
 */
public final class SnapshotWriter {
  private SnapshotWriter() {}

  /** What was written. */
  public record Written(Path file, long term, long index, String sha256, long records, long bytes) {}

  /** Runs on the complete, synced temp file just before it is renamed to the target. */
  @FunctionalInterface
  public interface BeforeRename {
    void accept(Path written) throws IOException;
  }

  public static Written write(FrozenState frozen, long term, long index, Path target, long writtenAtMs)
      throws IOException {
    return write(frozen, term, index, target, writtenAtMs, written -> { });
  }

  public static Written write(FrozenState frozen, long term, long index, Path target, long writtenAtMs,
      BeforeRename beforeRename) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Counts counts = new Counts();
    RecordDigest digest = new RecordDigest();
    String sha256;
    DB db = DBMaker.fileDB(tmp.toFile()).fileChannelEnable().fileSyncDisable().fileLockDisable().make();
    try {
      Sink topics = new Sink(db, TOPICS);
      Sink groups = new Sink(db, GROUPS);
      Sink members = new Sink(db, MEMBERS);
      Sink slots = new Sink(db, SLOTS);
      byte[][] header = new byte[1][];
      frozen.export(record -> {
        byte[] inner;
        switch (record.getBodyCase()) {
          case HEADER -> {
            inner = record.getHeader().toByteArray();
            header[0] = inner;
          }
          case TOPIC -> {
            inner = record.getTopic().toByteArray();
            topics.put(record.getTopic().getTopic(), inner);
            counts.topics++;
          }
          case GROUP -> {
            inner = record.getGroup().toByteArray();
            groups.put(record.getGroup().getGroup(), inner);
            counts.groups++;
          }
          case MEMBER -> {
            MemberRecord m = record.getMember();
            inner = m.toByteArray();
            members.put(memberKey(m.getGroup(), m.getConsumerId()), inner);
            counts.members++;
          }
          case SLOT -> {
            SlotRecord s = record.getSlot();
            inner = s.toByteArray();
            slots.put(slotKey(s.getGroup(), s.getTopic(), s.getPartition()), inner);
            counts.slots++;
          }
          default -> throw new IllegalStateException("cannot store state record " + record.getBodyCase());
        }
        digest.add(record.getBodyCase().getNumber(), inner);
      });
      if (header[0] == null) {
        throw new IllegalStateException("exported state has no header record");
      }
      topics.close();
      groups.close();
      members.close();
      slots.close();
      sha256 = digest.hex();
      BTreeMap<String, String> meta = db.treeMap(META, Serializer.STRING, Serializer.STRING).create();
      meta.putAll(Map.ofEntries(
          Map.entry(META_FORMAT, FORMAT_NAME),
          Map.entry(META_VERSION, Integer.toString(FORMAT_VERSION)),
          Map.entry(META_STATE_VERSION, Integer.toString(FrozenState.FORMAT_VERSION)),
          Map.entry(META_TERM, Long.toString(term)),
          Map.entry(META_INDEX, Long.toString(index)),
          Map.entry(META_SHA256, sha256),
          Map.entry(META_RECORDS, Long.toString(digest.records())),
          Map.entry(META_TOPICS, Long.toString(counts.topics)),
          Map.entry(META_GROUPS, Long.toString(counts.groups)),
          Map.entry(META_MEMBERS, Long.toString(counts.members)),
          Map.entry(META_SLOTS, Long.toString(counts.slots)),
          Map.entry(META_HEADER, Base64.getEncoder().encodeToString(header[0])),
          Map.entry(META_WRITTEN_AT_MS, Long.toString(writtenAtMs))));
      db.close();
    } catch (RuntimeException e) {
      closeQuietly(db);
      Files.deleteIfExists(tmp);
      if (e instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      throw new IOException("cannot write snapshot " + target + ": " + e, e);
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    try {
      beforeRename.accept(tmp);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDirectory(target.getParent());
    return new Written(target, term, index, sha256, digest.records(), Files.size(target));
  }

  static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems cannot fsync a directory; the rename is still atomic
    }
  }

  private static void closeQuietly(DB db) {
    try {
      if (!db.isClosed()) {
        db.close();
      }
    } catch (RuntimeException ignored) {
      // already failing
    }
  }

  /** The bytes of a StateRecord whose oneof field {@code field} holds {@code inner}. */
  static byte[] wrapped(int field, byte[] inner) {
    int n = inner.length;
    int varintLen = n < (1 << 7) ? 1 : n < (1 << 14) ? 2 : n < (1 << 21) ? 3 : n < (1 << 28) ? 4 : 5;
    byte[] out = new byte[1 + varintLen + n];
    out[0] = (byte) ((field << 3) | 2);
    int p = 1;
    int v = n;
    while ((v & ~0x7F) != 0) {
      out[p++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[p++] = (byte) v;
    System.arraycopy(inner, 0, out, p, n);
    return out;
  }

  /** Sanity check of {@link #wrapped} against protobuf, used by tests. */
  static boolean wrapsLikeProtobuf(StateRecord r, byte[] inner) {
    return java.util.Arrays.equals(r.toByteArray(), wrapped(r.getBodyCase().getNumber(), inner));
  }

  private static final class Counts {
    long topics;
    long groups;
    long members;
    long slots;
  }

  /** A B-tree built bottom-up from keys in ascending order (much faster than puts). */
  private static final class Sink {
    private final String name;
    private final DB.TreeMapSink<String, byte[]> sink;
    private String last;

    Sink(DB db, String name) {
      this.name = name;
      this.sink = db.treeMap(name, Serializer.STRING, Serializer.BYTE_ARRAY).createFromSink();
    }

    void put(String key, byte[] value) {
      if (last != null && last.compareTo(key) >= 0) {
        throw new IllegalStateException("snapshot map '" + name + "': keys out of order ('"
            + printable(last) + "' then '" + printable(key) + "')");
      }
      last = key;
      sink.put(key, value);
    }

    void close() {
      sink.create();
    }

    private static String printable(String key) {
      return key.replace(SEP, '/');
    }
  }
}
