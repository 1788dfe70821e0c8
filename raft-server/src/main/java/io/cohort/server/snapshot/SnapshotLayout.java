package io.cohort.server.snapshot;

import io.cohort.statemachine.proto.StateRecord;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * How a snapshot is laid out in its MapDB file (format version {@value #FORMAT_VERSION}).
 *
 * <ul>
 *   <li>{@code meta}: string to string; {@link #META_FORMAT} = {@value #FORMAT_NAME}, the format
 *       version, the Raft term and index the snapshot covers, the record counts, the SHA-256 of the
 *       record stream and the header record (base64).
 *   <li>{@code access}: principal to {@code AccessEntry} bytes, the ACL (R11; layout 2).
 *   <li>{@code topics}: topic name to {@code TopicRecord} bytes.
 *   <li>{@code groups}: group name to {@code GroupRecord} bytes.
 *   <li>{@code members}: {@code group \0 consumer} to {@code MemberRecord} bytes.
 *   <li>{@code slots}: {@code group \0 topic \0 partition(10 digits)} to {@code SlotRecord} bytes.
 * </ul>
 *
 * <p>All maps are sorted B-trees, so one group's members and slots are one key range: a reader can
 * show one group or one checkpoint without reading the rest. Names never contain {@code \0} (R9),
 * so the separator sorts before every name character and key order equals export order.
 *
 * <p>The checksum is SHA-256 over the records in export order, each prefixed by its length as four
 * big-endian bytes: the same digest as {@code Coordinator.digest()} of the state it holds.
 */
public final class SnapshotLayout {
  public static final String FORMAT_NAME = "cohort-snapshot";
  /** 2: the {@code access} map (state format 4). */
  public static final int FORMAT_VERSION = 2;

  static final String META = "meta";
  static final String ACCESS = "access";
  static final String TOPICS = "topics";
  static final String GROUPS = "groups";
  static final String MEMBERS = "members";
  static final String SLOTS = "slots";

  static final String META_FORMAT = "format";
  static final String META_VERSION = "format_version";
  static final String META_STATE_VERSION = "state_format_version";
  static final String META_TERM = "term";
  static final String META_INDEX = "index";
  static final String META_SHA256 = "sha256";
  static final String META_RECORDS = "records";
  static final String META_TOPICS = "topics";
  static final String META_GROUPS = "groups";
  static final String META_MEMBERS = "members";
  static final String META_SLOTS = "slots";
  static final String META_HEADER = "header";
  static final String META_WRITTEN_AT_MS = "written_at_ms";

  static final char SEP = '\u0000';

  private SnapshotLayout() {}

  /**
   * The state digest of a frozen copy, equal to {@code Coordinator.digest()} of the state it was
   * frozen from; computed outside the state lock, so applies do not wait for the hashing.
   */
  public static io.cohort.statemachine.proto.DigestView digest(io.cohort.statemachine.FrozenState frozen) {
    RecordDigest d = new RecordDigest();
    frozen.export(d::add);
    return io.cohort.statemachine.proto.DigestView.newBuilder().setAppliedIndex(frozen.appliedIndex())
        .setSha256(d.hex()).setRecords(d.records()).build();
  }

  static String memberKey(String group, String consumer) {
    return group + SEP + consumer;
  }

  static String slotKey(String group, String topic, int partition) {
    return group + SEP + topic + SEP + String.format("%010d", partition);
  }

  /** First key of a group's range in {@code members} and {@code slots}. */
  static String groupFrom(String group) {
    return group + SEP;
  }

  /** Key just past a group's range. */
  static String groupTo(String group) {
    return group + (char) (SEP + 1);
  }

  /** The running record digest shared by writer, reader and {@code Coordinator.digest()}. */
  static final class RecordDigest {
    private final MessageDigest sha;
    private long records;

    RecordDigest() {
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JVM has no SHA-256", e);
      }
    }

    void add(byte[] recordBytes) {
      int n = recordBytes.length;
      sha.update(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
      sha.update(recordBytes);
      records++;
    }

    void add(StateRecord record) {
      add(record.toByteArray());
    }

    /**
     * Same as {@code add(StateRecord)} for a record whose oneof field {@code field} holds the
     * serialized message {@code inner}, without building it: tag, length varint, bytes.
     */
    void add(int field, byte[] inner) {
      int n = inner.length;
      byte[] head = new byte[10];
      int p = 0;
      head[p++] = (byte) ((field << 3) | 2);
      int v = n;
      while ((v & ~0x7F) != 0) {
        head[p++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      head[p++] = (byte) v;
      int total = p + n;
      sha.update(new byte[] {(byte) (total >>> 24), (byte) (total >>> 16), (byte) (total >>> 8), (byte) total});
      sha.update(head, 0, p);
      sha.update(inner);
      records++;
    }

    long records() {
      return records;
    }

    String hex() {
      return HexFormat.of().formatHex(sha.digest());
    }
  }
}
