package io.cohort.harness.chaos;

import io.cohort.client.PartitionId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the chaos consumers saw, recorded as it happens (thread safe): every acknowledged commit,
 * every grant (reader started) and release (reader stopped), every processed batch.
 */
final class Ledger {
  /** One reader's hold of a partition, from its start to its stop (end -1 while open). */
  static final class Hold {
    final String consumer;
    final PartitionId partition;
    final long epoch;
    final long startNanos;
    long endNanos = -1;
    String reason;

    Hold(String consumer, PartitionId partition, long epoch, long startNanos) {
      this.consumer = consumer;
      this.partition = partition;
      this.epoch = epoch;
      this.startNanos = startNanos;
    }

    long end() {
      return endNanos < 0 ? Long.MAX_VALUE : endNanos;
    }

    @Override
    public String toString() {
      return consumer + " epoch " + epoch + " [" + startNanos / 1_000_000 + ", "
          + (endNanos < 0 ? "open" : endNanos / 1_000_000 + " " + reason) + "] ms";
    }
  }

  /** Per partition: processed records. */
  static final class Reads {
    long records;
    long maxOffset = -1;
    long firstNanos = -1;
    long lastNanos = -1;
    long duplicates;
    long nextExpected = -1;
  }

  private final Map<PartitionId, Long> ackedMax = new TreeMap<>();
  private long acked;
  private final List<Hold> holds = new ArrayList<>();
  private final Map<String, Hold> open = new HashMap<>();
  private final Map<PartitionId, Reads> reads = new TreeMap<>();
  /** Per partition, the latest hold started: a record read again is put down to how the one before it ended. */
  private final Map<PartitionId, Hold> latest = new HashMap<>();
  private final Map<PartitionId, String> afterWhat = new HashMap<>();
  private final Map<String, Long> againAfter = new TreeMap<>();
  private long startsChecked;
  private final List<String> startsBelowAcked = new ArrayList<>();

  synchronized void committed(PartitionId p, String cursor) {
    acked++;
    long c = Long.parseLong(cursor);
    ackedMax.merge(p, c, Math::max);
  }

  /**
   * A reader starts at {@code startCursor} (null: the partition's start). Starting below a cursor
   * already acknowledged to any consumer would read acknowledged records again: noted as a start
   * below the acknowledged cursor. (An acknowledgement that reaches its consumer after this start
   * is not counted here: no false alarm, at most a miss.)
   */
  synchronized void assigned(String consumer, PartitionId p, long epoch, String startCursor) {
    startsChecked++;
    long start = startCursor == null ? 0 : Long.parseLong(startCursor);
    Long acked = ackedMax.get(p);
    if (acked != null && start < acked) {
      startsBelowAcked.add(consumer + " started " + p + " (epoch " + epoch + ") at " + start
          + ", below the acknowledged cursor " + acked);
    }
    Hold h = new Hold(consumer, p, epoch, System.nanoTime());
    Hold before = latest.put(p, h);
    afterWhat.put(p, before == null ? "the first grant"
        : before.consumer.equals(consumer) && before.epoch == epoch ? "the same grant resumed"
        : before.endNanos < 0 ? "a hold not yet ended" : before.reason);
    Hold prev = open.put(consumer + "|" + p, h);
    if (prev != null && prev.endNanos < 0) {
      prev.endNanos = h.startNanos;
      prev.reason = "reassigned";
    }
    holds.add(h);
  }

  synchronized void revoked(String consumer, PartitionId p, String reason) {
    Hold h = open.remove(consumer + "|" + p);
    if (h != null) {
      h.endNanos = System.nanoTime();
      h.reason = reason;
    }
  }

  synchronized void processed(PartitionId p, List<Long> offsets) {
    if (offsets.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    Reads r = reads.computeIfAbsent(p, k -> new Reads());
    if (r.firstNanos < 0) {
      r.firstNanos = now;
    }
    for (long o : offsets) {
      if (o <= r.maxOffset) {
        r.duplicates++;
        againAfter.merge(afterWhat.getOrDefault(p, "no grant seen"), 1L, Long::sum);
      }
      r.maxOffset = Math.max(r.maxOffset, o);
      r.lastNanos = now;
      r.records++;
    }
  }

  /** Records read again, by how the hold before the one that read them again ended. */
  synchronized Map<String, Long> againAfter() {
    return new TreeMap<>(againAfter);
  }

  synchronized long startsChecked() {
    return startsChecked;
  }

  synchronized List<String> startsBelowAcked() {
    return new ArrayList<>(startsBelowAcked);
  }

  synchronized long acked() {
    return acked;
  }

  synchronized Map<PartitionId, Long> ackedMax() {
    return new TreeMap<>(ackedMax);
  }

  synchronized List<Hold> holds() {
    return new ArrayList<>(holds);
  }

  synchronized Map<PartitionId, Reads> reads() {
    return new TreeMap<>(reads);
  }

  /** Time of the batch that held offset {@code end - 1} of p, or -1. */
  synchronized Reads readsOf(PartitionId p) {
    return reads.get(p);
  }
}
