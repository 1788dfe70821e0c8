package io.cohort.statemachine;

/**
 * Per-request and per-cluster limits (R9). Every replica must run with the same limits, since they
 * decide which commands are rejected.
 */
public record Limits(
    int maxTopics,
    int maxPartitionsPerTopic,
    int maxGroups,
    int maxTopicsPerGroup,
    int maxMembersPerGroup,
    int maxEntriesPerCommand,
    int maxCursorBytes) {

  public static final Limits DEFAULTS = new Limits(10_000, 10_000, 100_000, 64, 10_000, 10_000, 1024);

  public Limits {
    if (maxTopics <= 0 || maxPartitionsPerTopic <= 0 || maxGroups <= 0 || maxTopicsPerGroup <= 0
        || maxMembersPerGroup <= 0 || maxEntriesPerCommand <= 0 || maxCursorBytes <= 0) {
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
}
