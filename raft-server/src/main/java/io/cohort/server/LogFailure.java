package io.cohort.server;

/**
 * Ratis' log worker failed to write or flush (a full or broken disk): it fails every later write
 * too, so this node can no longer persist entries and only a restart recovers it (RATIS-NOTES F).
 *
 * @param index the index of the entry that failed, or -1 (a segment start or finalize)
 * @param cause the exception as one line
 */
public record LogFailure(long index, String cause) {
  public String describe() {
    return "raft log write failed" + (index >= 0 ? " at index " + index : "") + ": " + cause;
  }
}
