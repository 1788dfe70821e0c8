package io.cohort.server.snapshot;

import static io.cohort.server.snapshot.SnapshotLayout.*;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.proto.HeaderRecord;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;

/**
 * What a snapshot's meta map says about it, checked as it is read: the format name and version,
 * the state format version, a checksum of the right shape, and a readable header record.
 */
public record SnapshotMeta(int formatVersion, int stateFormatVersion, long term, long index, String sha256,
    long records, long topics, long groups, long members, long slots, long writtenAtMs,
    HeaderRecord header) {

  static SnapshotMeta read(Path file, Map<String, String> m) throws CorruptSnapshotException {
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
    return new SnapshotMeta(version, stateVersion, number(file, m, META_TERM), number(file, m, META_INDEX), sha,
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
}
