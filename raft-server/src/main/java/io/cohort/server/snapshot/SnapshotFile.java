package io.cohort.server.snapshot;

import static io.cohort.server.snapshot.SnapshotLayout.*;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.GroupRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.TopicRecord;
import java.io.Closeable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * Reads one snapshot file offline or at load: the whole record stream in export order, or just one
 * group or one checkpoint (a key range of the sorted maps, see {@link SnapshotLayout}). {@link
 * #open} checks the meta data ({@link SnapshotMeta}); {@link #verify} and {@link #load} check the
 * checksum over every record. {@link SnapshotDirectory} finds the files.
 *
 * <pre>{@code
 * try (SnapshotFile f = SnapshotFile.open(path)) {
 *   f.verify();
 *   f.group("g1").ifPresent(g -> ...);
 * }
 * }</pre>
 */
public final class SnapshotFile implements Closeable {
  /** One group as stored: the group, its members and its slots (holder, epoch, checkpoint). */
  public record GroupSnapshot(GroupRecord group, List<MemberRecord> members, List<SlotRecord> slots) {}

  private final Path file;
  private final DB db;
  private final SnapshotMeta meta;
  private final BTreeMap<String, byte[]> access;
  private final BTreeMap<String, byte[]> topics;
  private final BTreeMap<String, byte[]> groups;
  private final BTreeMap<String, byte[]> members;
  private final BTreeMap<String, byte[]> slots;

  private SnapshotFile(Path file, DB db, SnapshotMeta meta, BTreeMap<String, byte[]> access,
      BTreeMap<String, byte[]> topics,
      BTreeMap<String, byte[]> groups, BTreeMap<String, byte[]> members, BTreeMap<String, byte[]> slots) {
    this.file = file;
    this.db = db;
    this.meta = meta;
    this.access = access;
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
      for (String name : List.of(META, ACCESS, TOPICS, GROUPS, MEMBERS, SLOTS)) {
        if (!db.exists(name)) {
          throw new CorruptSnapshotException(file, "has no '" + name + "' map: not a Cohort snapshot");
        }
      }
      Map<String, String> m = db.treeMap(META, Serializer.STRING, Serializer.STRING).open();
      SnapshotMeta meta = SnapshotMeta.read(file, m);
      return new SnapshotFile(file, db, meta, open(db, ACCESS), open(db, TOPICS), open(db, GROUPS), open(db, MEMBERS),
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

  public Path path() {
    return file;
  }

  public SnapshotMeta meta() {
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
    private final Iterator<byte[]> accessIt = access.values().iterator();
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
      if (accessIt.hasNext()) {
        byte[] b = seen(StateRecord.ACCESS_FIELD_NUMBER, accessIt.next());
        return StateRecord.newBuilder().setAccess(parse(io.cohort.statemachine.proto.AccessEntry.parser(), b)).build();
      }
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
