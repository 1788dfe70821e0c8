package io.cohort.client;

import java.util.List;
import java.util.Objects;

/**
 * What one {@link PartitionReader.Session#poll} returns.
 *
 * @param records the records read, in order (may be empty)
 * @param nextCursor the cursor of the next record to read after these (the position to commit
 *     once they are processed); never null
 * @param endOfPartition the store knows no record will ever follow (a sealed partition's end)
 * @param lag records between nextCursor and the partition's head, if the store knows; else null
 * @param lagMs age of the newest record read in ms, if known; else null
 */
public record Batch<R>(List<R> records, String nextCursor, boolean endOfPartition, Long lag, Long lagMs) {
  public Batch {
    records = List.copyOf(records);
    Objects.requireNonNull(nextCursor, "nextCursor");
  }

  public static <R> Batch<R> of(List<R> records, String nextCursor) {
    return new Batch<>(records, nextCursor, false, null, null);
  }
}
