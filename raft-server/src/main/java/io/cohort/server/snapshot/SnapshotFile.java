package io.cohort.server.snapshot;

import static io.cohort.server.snapshot.SnapshotLayout.*;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.GroupRecord;
import io.cohort.statemachine.proto.HeaderRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.TopicRecord;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * Reads one snapshot file offline or at load: its meta data, the whole record stream in export
 * order, or just one group or one checkpoint (a key range of the sorted maps, see {@link
 * SnapshotLayout}). {@link #open} checks the format name and version; {@link #verify} and {@link
 * #load} check the checksum over every record.
 *
 * <pre>{@code
 * try (SnapshotFile f = SnapshotFile.open(path)) {
 *   f.verify();
 *   f.group("g1").ifPresent(g -> ...);
 * }
 * }</pre>
 */
public final class SnapshotFile implements Closeable {
  /** Ratis' snapshot file name: {@code snapshot.<term>_<index>}. */
  public static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");

  /** What the meta map says about the snapshot. */
  public record Meta(int formatVersion, int stateFormatVersion, long term, long index, String sha256,
      long records, long topics, long groups, long members, long slots, long writtenAtMs,
      HeaderRecord header) {}

  /** One group as stored: the group, its members and its slots (holder, epoch, checkpoint). */
  public record GroupSnapshot(GroupRecord group, List<MemberRecord> members, List<SlotRecord> slots) {}

  /** A snapshot file found on disk. */
  public record Listing(Path file, long term, long index, long bytes, boolean hasMd5) {}

  private final Path file;
  private final DB db;
  private final Meta meta;
  private final BTreeMap<String, byte[]> topics;
  private final BTreeMap<String, byte[]> groups;
  private final BTreeMap<String, byte[]> members;
  private final BTreeMap<String, byte[]> slots;

  private SnapshotFile(Path file, DB db, Meta meta, BTreeMap<String, byte[]> topics,
      BTreeMap<String, byte[]> groups, BTreeMap<String, byte[]> members, BTreeMap<String, byte[]> slots) {
    this.file = file;
    this.db = db;
    this.meta = meta;
    this.topics = topics;
    this.groups = groups;
    this.members = members;
    this.slots = slots;
  }

  /** Opens a snapshot read-only and checks its format name and version (not yet the checksum). */
  public static SnapshotFile open(Path file) throws CorruptSnapshotException {
    if (!Files.isRegularFile(file)) {
      throw new CorruptSnapshotException(file, "does not exist or is not a file");
    }
    DB db;
    try {
      db = DBMaker.fileDB(file.toFile()).readOnly().fileChannelEnable().fileLockDisable().make();
    } catch (RuntimeException e) {
      throw new CorruptSnapshotException(file, "is not a readable MapDB file: " + e.getMessage(), e);
    }
    try {
      for (String name : List.of(META, TOPICS, GROUPS, MEMBERS, SLOTS)) {
        if (!db.exists(name)) {
          throw new CorruptSnapshotException(file, "has no '" + name + "' map: not a Cohort snapshot");
        }
      }
      Map<String, String> m = db.treeMap(META, Serializer.STRING, Serializer.STRING).open();
      Meta meta = parseMeta(file, m);
      return new SnapshotFile(file, db, meta, open(db, TOPICS), open(db, GROUPS), open(db, MEMBERS),
          open(db, SLOTS));
    } catch (CorruptSnapshotException e) {
      db.close();
      throw e;
    } catch (RuntimeException e) {
      db.close();
      throw new CorruptSnapshotException(file, "cannot be read: " + e, e);
    }
  }

  private static BTreeMap<String, byte[]> open(DB db, String name) {
    return db.treeMap(name, Serializer.STRING, Serializer.BYTE_ARRAY).open();
  }

  private static Meta parseMeta(Path file, Map<String, String> m) throws CorruptSnapshotException {
    if (!FORMAT_NAME.equals(m.get(META_FORMAT))) {
      throw new CorruptSnapshotException(file, "is not a Cohort snapshot (format '" + m.get(META_FORMAT) + "')");
    }
    int version = (int) number(file, m, META_VERSION);
    if (version != FORMAT_VERSION) {
      throw new CorruptSnapshotException(file, "has snapshot format version " + version
          + "; this Cohort reads version " + FORMAT_VERSION);
    }
    int stateVersion = (int) number(file, m, META_STATE_VERSION);
    if (stateVersion != FrozenState.FORMAT_VERSION) {
      throw new CorruptSnapshotException(file, "has state format version " + stateVersion
          + "; this Cohort reads version " + FrozenState.FORMAT_VERSION);
    }
    String sha = m.get(META_SHA256);
    if (sha == null || sha.length() != 64) {
      throw new CorruptSnapshotException(file, "has no valid checksum in its meta data");
    }
    HeaderRecord header;
    try {
      header = HeaderRecord.parseFrom(Base64.getDecoder().decode(require(file, m, META_HEADER)));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      throw new CorruptSnapshotException(file, "has an unreadable header record", e);
    }
    return new Meta(version, stateVersion, number(file, m, META_TERM), number(file, m, META_INDEX), sha,
        number(file, m, META_RECORDS), number(file, m, META_TOPICS), number(file, m, META_GROUPS),
        number(file, m, META_MEMBERS), number(file, m, META_SLOTS), number(file, m, META_WRITTEN_AT_MS),
        header);
  }

  private static String require(Path file, Map<String, String> m, String key) throws CorruptSnapshotException {
    String v = m.get(key);
    if (v == null) {
      throw new CorruptSnapshotException(file, "has no '" + key + "' in its meta data");
    }
    return v;
  }

  private static long number(Path file, Map<String, String> m, String key) throws CorruptSnapshotException {
    String v = require(file, m, key);
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new CorruptSnapshotException(file, "has a bad '" + key + "' in its meta data: " + v);
    }
  }

  public Path path() {
    return file;
  }

  public Meta meta() {
    return meta;
  }

  /** Every record in export order: header, topics, then each group with its members and slots. */
  public Iterator<StateRecord> records() {
    return new RecordIterator(null);
  }

  /** Recomputes the checksum and record counts; throws if they differ from the meta data. */
  public void verify() throws CorruptSnapshotException {
    RecordDigest digest = new RecordDigest();
    try {
      Iterator<StateRecord> it = new RecordIterator(digest);
      while (it.hasNext()) {
        it.next();
      }
    } catch (UncheckedIOException e) {
      throw corrupt(e);
    } catch (RuntimeException e) {
      throw new CorruptSnapshotException(file, "cannot be read: " + e, e);
    }
    check(digest);
  }

  /** Rebuilds the coordinator, checking the checksum on the way; nothing is returned if it fails. */
  public Coordinator load(Limits limits) throws CorruptSnapshotException {
    RecordDigest digest = new RecordDigest();
    Coordinator c;
    try {
      c = Coordinator.rebuild(new RecordIterator(digest), limits);
    } catch (UncheckedIOException e) {
      throw corrupt(e);
    } catch (IllegalArgumentException e) {
      throw new CorruptSnapshotException(file, "holds a state that cannot be rebuilt: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new CorruptSnapshotException(file, "cannot be read: " + e, e);
    }
    check(digest);
    return c;
  }

  private CorruptSnapshotException corrupt(UncheckedIOException e) {
    return e.getCause() instanceof CorruptSnapshotException c ? c
        : new CorruptSnapshotException(file, "cannot be read: " + e.getCause(), e.getCause());
  }

  private void check(RecordDigest digest) throws CorruptSnapshotException {
    if (digest.records() != meta.records()) {
      throw new CorruptSnapshotException(file, "fails its checksum: " + digest.records()
          + " records found, " + meta.records() + " expected");
    }
    String actual = digest.hex();
    if (!actual.equals(meta.sha256())) {
      throw new CorruptSnapshotException(file, "fails its checksum: SHA-256 " + actual + ", expected "
          + meta.sha256());
    }
  }

  public List<TopicRecord> topics() {
    List<TopicRecord> out = new ArrayList<>();
    for (byte[] b : topics.values()) {
      out.add(parse(TopicRecord.parser(), b));
    }
    return out;
  }

  public List<String> groupNames() {
    return new ArrayList<>(groups.keySet());
  }

  /** One group, read from its key ranges only. */
  public Optional<GroupSnapshot> group(String name) {
    byte[] g = groups.get(name);
    if (g == null) {
      return Optional.empty();
    }
    List<MemberRecord> ms = new ArrayList<>();
    for (byte[] b : members.subMap(groupFrom(name), groupTo(name)).values()) {
      ms.add(parse(MemberRecord.parser(), b));
    }
    List<SlotRecord> ss = new ArrayList<>();
    for (byte[] b : slots.subMap(groupFrom(name), groupTo(name)).values()) {
      ss.add(parse(SlotRecord.parser(), b));
    }
    return Optional.of(new GroupSnapshot(parse(GroupRecord.parser(), g), ms, ss));
  }

  /** One slot (holder, epoch, checkpoint) by key; empty if the snapshot has none for it. */
  public Optional<SlotRecord> slot(String group, String topic, int partition) {
    byte[] b = slots.get(slotKey(group, topic, partition));
    return b == null ? Optional.empty() : Optional.of(parse(SlotRecord.parser(), b));
  }

  @Override
  public void close() {
    if (!db.isClosed()) {
      db.close();
    }
  }

  /**
   * Snapshot files under {@code dir} — a storage dir ({@code <dir>/<group>/sm/}), a group dir
   * ({@code <dir>/sm/}) or an {@code sm/} dir — newest first. Safe while the server runs: a file
   * deleted meanwhile (retention) is left out.
   */
  public static List<Listing> list(Path dir) throws IOException {
    List<Path> smDirs = new ArrayList<>(List.of(dir, dir.resolve("sm")));
    if (Files.isDirectory(dir)) {
      try (var children = Files.newDirectoryStream(dir, Files::isDirectory)) {
        for (Path child : children) {
          smDirs.add(child.resolve("sm"));
        }
      }
    }
    List<Listing> out = new ArrayList<>();
    for (Path sm : smDirs) {
      if (!Files.isDirectory(sm)) {
        continue;
      }
      try (var files = Files.newDirectoryStream(sm)) {
        for (Path p : files) {
          Matcher m = NAME.matcher(p.getFileName().toString());
          if (!m.matches()) {
            continue;
          }
          try {
            out.add(new Listing(p, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Files.size(p),
                Files.exists(p.resolveSibling(p.getFileName() + ".md5"))));
          } catch (NoSuchFileException e) {
            // deleted by retention while we looked
          }
        }
      } catch (NoSuchFileException e) {
        // the sm/ dir was replaced by a snapshot install while we looked
      }
    }
    out.sort(Comparator.comparingLong(Listing::index).reversed().thenComparing(Listing::file));
    return out;
  }

  private <T> T parse(com.google.protobuf.Parser<T> parser, byte[] bytes) {
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(new CorruptSnapshotException(file, "holds an unreadable record: "
          + e.getMessage(), e));
    }
  }

  /** Header, topics, then per group: group, members range, slots range; feeds a digest if given. */
  private final class RecordIterator implements Iterator<StateRecord> {
    private final RecordDigest digest;
    private StateRecord next;
    private final Iterator<byte[]> topicIt = topics.values().iterator();
    private final Iterator<Map.Entry<String, byte[]>> groupIt = groups.entrySet().iterator();
    private Iterator<byte[]> memberIt = java.util.Collections.emptyIterator();
    private Iterator<byte[]> slotIt = java.util.Collections.emptyIterator();

    RecordIterator(RecordDigest digest) {
      this.digest = digest;
      next = StateRecord.newBuilder().setHeader(meta.header()).build();
      if (digest != null) {
        digest.add(StateRecord.HEADER_FIELD_NUMBER, meta.header().toByteArray());
      }
    }

    @Override
    public boolean hasNext() {
      if (next == null) {
        next = advance();
      }
      return next != null;
    }

    @Override
    public StateRecord next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      StateRecord r = next;
      next = null;
      return r;
    }

    private byte[] seen(int field, byte[] inner) {
      if (digest != null) {
        digest.add(field, inner);
      }
      return inner;
    }

    private StateRecord advance() {
      if (topicIt.hasNext()) {
        byte[] b = seen(StateRecord.TOPIC_FIELD_NUMBER, topicIt.next());
        return StateRecord.newBuilder().setTopic(parse(TopicRecord.parser(), b)).build();
      }
      if (memberIt.hasNext()) {
        byte[] b = seen(StateRecord.MEMBER_FIELD_NUMBER, memberIt.next());
        return StateRecord.newBuilder().setMember(parse(MemberRecord.parser(), b)).build();
      }
      if (slotIt.hasNext()) {
        byte[] b = seen(StateRecord.SLOT_FIELD_NUMBER, slotIt.next());
        return StateRecord.newBuilder().setSlot(parse(SlotRecord.parser(), b)).build();
      }
      if (groupIt.hasNext()) {
        Map.Entry<String, byte[]> g = groupIt.next();
        String name = g.getKey();
        memberIt = members.subMap(groupFrom(name), groupTo(name)).values().iterator();
        slotIt = slots.subMap(groupFrom(name), groupTo(name)).values().iterator();
        byte[] b = seen(StateRecord.GROUP_FIELD_NUMBER, g.getValue());
        return StateRecord.newBuilder().setGroup(parse(GroupRecord.parser(), b)).build();
      }
      return null;
    }
  }
}
