package io.cohort.client;

import com.google.protobuf.CodedOutputStream;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.ReaderError;
import java.util.List;

/**
 * How many checkpoint entries, and how many bytes, one consumer command may carry (R9: the leader
 * refuses larger ones with LIMIT_EXCEEDED before the log). Starts at the cluster's default limits,
 * adopts the limits the cluster reports, and shrinks after a refusal so that the next command is
 * smaller rather than the same one again. No threads, no clock.
 */
final class CommandBudget {
  /** The cluster's defaults (statemachine {@code Limits.DEFAULTS}) until it tells otherwise. */
  static final int DEFAULT_MAX_ENTRIES = 10_000;
  static final int DEFAULT_MAX_COMMAND_BYTES = 1 << 20;
  /**
   * Kept free below the byte limit: the Command wrapper is counted exactly, this covers what the
   * leader may add around it (its time stamp, the caller's principal).
   */
  static final int SLACK_BYTES = 1024;

  private int maxEntries = DEFAULT_MAX_ENTRIES;
  private int maxBytes = DEFAULT_MAX_COMMAND_BYTES - SLACK_BYTES;
  private boolean shrunk;

  int maxEntries() {
    return maxEntries;
  }

  /** Bytes one whole command may take. */
  int maxBytes() {
    return maxBytes;
  }

  /** The cluster's limits; after a refusal the budget only ever shrinks. */
  void adopt(LimitsRecord limits) {
    if (limits == null) {
      return;
    }
    int entries = limits.hasMaxEntriesPerCommand() && limits.getMaxEntriesPerCommand() > 0
        ? limits.getMaxEntriesPerCommand() : DEFAULT_MAX_ENTRIES;
    int bytes = limits.hasMaxCommandBytes() && limits.getMaxCommandBytes() > 2 * SLACK_BYTES
        ? limits.getMaxCommandBytes() - SLACK_BYTES : DEFAULT_MAX_COMMAND_BYTES - SLACK_BYTES;
    maxEntries = shrunk ? Math.min(maxEntries, entries) : entries;
    maxBytes = shrunk ? Math.min(maxBytes, bytes) : bytes;
  }

  /**
   * A command of {@code entries} entries and {@code bytes} bytes was refused as too large: the next
   * ones carry at most half of it. Returns false when it carried at most one entry (then that entry
   * itself is to blame and is dropped: shrinking cannot help).
   */
  boolean shrinkAfterRefusal(int entries, int bytes) {
    if (entries <= 1) {
      return false;
    }
    shrunk = true;
    maxEntries = Math.max(1, Math.min(maxEntries, entries / 2));
    maxBytes = Math.max(1, Math.min(maxBytes, bytes / 2));
    return true;
  }

  // ------------------------------------------------------------------ sizes (protobuf wire format)

  /**
   * Bytes of a Heartbeat, CommitCheckpoints or Leave inside its Command, before its entries: the
   * group, the consumer id, the session, the held list (empty but for a heartbeat), and the
   * Command's own tag and length prefix (counted at their largest).
   */
  static int baseBytes(String group, String consumerId, com.google.protobuf.ByteString session,
      List<PartitionRef> held) {
    // the token's field number differs per command (5 or 6): one tag byte either way
    int size = CodedOutputStream.computeStringSize(1, group) + CodedOutputStream.computeStringSize(2, consumerId)
        + (session.isEmpty() ? 0 : CodedOutputStream.computeBytesSize(6, session));
    for (PartitionRef ref : held) {
      size += CodedOutputStream.computeMessageSize(4, ref);
    }
    return size + 2 + 5; // the body's tag (field 9..11: 1 byte, 2 at most) and its length varint (5 at most)
  }

  /** Bytes one entry adds (field 4 or 5: a one-byte tag, a length, the entry). */
  static int entryBytes(CheckpointEntry e) {
    return CodedOutputStream.computeMessageSize(5, e);
  }

  /** Bytes one reader error adds (field 20: a two-byte tag, a length, the error). */
  static int errorBytes(ReaderError e) {
    return CodedOutputStream.computeMessageSize(20, e);
  }
}
