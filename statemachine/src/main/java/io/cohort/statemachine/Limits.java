package io.cohort.statemachine;

import io.cohort.statemachine.proto.LimitsRecord;

/**
 * Per-request and per-cluster limits (R9). They decide which commands are rejected, so they are
 * replicated state: every replica applies the same {@code SetLimits} commands.
 */
public record Limits(
    int maxTopics,
    int maxPartitionsPerTopic,
    int maxGroups,
    int maxTopicsPerGroup,
    int maxMembersPerGroup,
    int maxEntriesPerCommand,
    int maxCursorBytes,
    long maxSlots,
    long maxMembers,
    int maxHeldPerHeartbeat,
    int maxCommandBytes) {

  /**
   * The limits a new cluster starts with. Part of the log's meaning: a replica replaying the log
   * from index 1 must start from the same values, so change them only with a format version
   * (changing them now is fine: nothing is deployed yet).
   *
   * <p>maxSlots from docs/BENCHMARKS.md "Memory": a slot with a checkpoint costs about 236 bytes
   * (one group per topic; 182 when groups share topics), a snapshot's frozen copy 21 more while it
   * is written. A 1 GB server heap gives the coordinator about half (Ratis' caches, gRPC and GC
   * headroom take the rest): 512 MB / 257 bytes is about 2M slots, so 1M leaves a factor 2 for
   * cursors longer than the 10-byte offsets measured (each cursor character is a byte per slot).
   * maxMembers: about 225 bytes each, 100k members cost ~22 MB.
   */
  public static final Limits DEFAULTS = new Limits(10_000, 10_000, 100_000, 64, 10_000, 10_000, 1024,
      1_000_000, 100_000, 100_000, 1 << 20);

  /** Below this a heartbeat with a full `held` list could not be sent at all. */
  public static final int MIN_COMMAND_BYTES = 64 * 1024;

  public Limits {
    if (maxTopics <= 0 || maxPartitionsPerTopic <= 0 || maxGroups <= 0 || maxTopicsPerGroup <= 0
        || maxMembersPerGroup <= 0 || maxEntriesPerCommand <= 0 || maxCursorBytes <= 0
        || maxSlots <= 0 || maxMembers <= 0 || maxHeldPerHeartbeat <= 0 || maxCommandBytes <= 0) {
      throw new IllegalArgumentException("every limit must be positive");
    }
  }

  /** True when the cursor's UTF-8 form is at most {@code maxCursorBytes}. */
  public boolean cursorFits(String cursor) {
    if (cursor.length() * 3 <= maxCursorBytes) {
      return true; // no UTF-8 character takes more than 3 bytes per UTF-16 unit
    }
    return cursor.length() <= maxCursorBytes
        && cursor.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= maxCursorBytes;
  }

  /** Every field set. */
  public LimitsRecord toRecord() {
    return LimitsRecord.newBuilder().setMaxTopics(maxTopics).setMaxPartitionsPerTopic(maxPartitionsPerTopic)
        .setMaxGroups(maxGroups).setMaxTopicsPerGroup(maxTopicsPerGroup)
        .setMaxMembersPerGroup(maxMembersPerGroup).setMaxEntriesPerCommand(maxEntriesPerCommand)
        .setMaxCursorBytes(maxCursorBytes).setMaxSlots(maxSlots).setMaxMembers(maxMembers)
        .setMaxHeldPerHeartbeat(maxHeldPerHeartbeat).setMaxCommandBytes(maxCommandBytes).build();
  }

  /**
   * These limits with the fields set in {@code r} replaced.
   *
   * @throws IllegalArgumentException if a resulting limit is not positive
   */
  public Limits with(LimitsRecord r) {
    return new Limits(
        r.hasMaxTopics() ? r.getMaxTopics() : maxTopics,
        r.hasMaxPartitionsPerTopic() ? r.getMaxPartitionsPerTopic() : maxPartitionsPerTopic,
        r.hasMaxGroups() ? r.getMaxGroups() : maxGroups,
        r.hasMaxTopicsPerGroup() ? r.getMaxTopicsPerGroup() : maxTopicsPerGroup,
        r.hasMaxMembersPerGroup() ? r.getMaxMembersPerGroup() : maxMembersPerGroup,
        r.hasMaxEntriesPerCommand() ? r.getMaxEntriesPerCommand() : maxEntriesPerCommand,
        r.hasMaxCursorBytes() ? r.getMaxCursorBytes() : maxCursorBytes,
        r.hasMaxSlots() ? r.getMaxSlots() : maxSlots,
        r.hasMaxMembers() ? r.getMaxMembers() : maxMembers,
        r.hasMaxHeldPerHeartbeat() ? r.getMaxHeldPerHeartbeat() : maxHeldPerHeartbeat,
        r.hasMaxCommandBytes() ? r.getMaxCommandBytes() : maxCommandBytes);
  }
}
