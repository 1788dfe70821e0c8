package io.cohort.harness.chaos;

import io.cohort.client.Batch;
import io.cohort.client.PartitionGrant;
import io.cohort.client.PartitionId;
import io.cohort.client.PartitionReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An in-memory log whose partitions grow by themselves: partition p's head is {@code ratePerS}
 * records per second since it was first seen. Records are their offsets; a cursor is the next
 * offset in decimal. {@link #seal} stops a partition at its current head (as a real log seals a
 * partition before it is split), and reading it to that end reports the end of the partition.
 */
final class SyntheticLog implements PartitionReader<Long> {
  private final double ratePerS;
  private final ConcurrentHashMap<PartitionId, long[]> partitions = new ConcurrentHashMap<>(); // {createdNanos, end or -1}

  SyntheticLog(double ratePerS) {
    this.ratePerS = ratePerS;
  }

  private long[] meta(PartitionId p) {
    return partitions.computeIfAbsent(p, k -> new long[] {System.nanoTime(), -1});
  }

  long head(PartitionId p) {
    long[] m = meta(p);
    synchronized (m) {
      long grown = (long) ((System.nanoTime() - m[0]) / 1e9 * ratePerS);
      return m[1] >= 0 ? Math.min(m[1], grown) : grown;
    }
  }

  /** Seals the partition at its current head and returns that end. */
  long seal(PartitionId p) {
    long[] m = meta(p);
    synchronized (m) {
      if (m[1] < 0) {
        m[1] = (long) ((System.nanoTime() - m[0]) / 1e9 * ratePerS);
      }
      return m[1];
    }
  }

  long end(PartitionId p) {
    long[] m = meta(p);
    synchronized (m) {
      return m[1];
    }
  }

  @Override
  public Session<Long> open(PartitionGrant grant, String cursor) {
    PartitionId id = grant.id();
    long start = cursor != null ? Long.parseLong(cursor) : 0;
    return new Session<>() {
      long next = start;

      @Override
      public Batch<Long> poll(int maxRecords, long maxWaitMs) {
        long head = head(id);
        if (head <= next) {
          long end = end(id);
          if (end >= 0 && next >= end) {
            return new Batch<>(List.of(), Long.toString(next), true, 0L, null);
          }
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(maxWaitMs, 50)));
          head = head(id);
        }
        long upto = Math.min(head, next + Math.min(maxRecords, 50));
        List<Long> records = new ArrayList<>();
        for (long o = next; o < upto; o++) {
          records.add(o);
        }
        next = Math.max(next, upto);
        long end = end(id);
        return new Batch<>(records, Long.toString(next), end >= 0 && next >= end, head - next, null);
      }
    };
  }
}
