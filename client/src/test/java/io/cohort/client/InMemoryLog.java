package io.cohort.client;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A partitioned log in memory for tests: cursors are decimal offsets ("0" = first record). It
 * counts the readers open on each partition at once and records every moment two were open (a
 * double holder as the log store would see it, R2).
 */
final class InMemoryLog implements PartitionReader<InMemoryLog.Record> {
  record Record(PartitionId partition, long offset, String value) {}

  private final Map<PartitionId, List<String>> data = new HashMap<>();
  private final Map<PartitionId, Boolean> sealed = new HashMap<>();
  private final Map<PartitionId, Integer> openReaders = new HashMap<>();
  final List<String> doubleReaders = new CopyOnWriteArrayList<>();

  synchronized void append(String topic, int partition, int count) {
    PartitionId id = new PartitionId(topic, partition);
    if (sealed.getOrDefault(id, false)) {
      throw new IllegalStateException(id + " is sealed");
    }
    List<String> list = data.computeIfAbsent(id, k -> new ArrayList<>());
    for (int i = 0; i < count; i++) {
      list.add(id + "#" + list.size());
    }
    notifyAll();
  }

  /** No record will follow: readers see the end, and its end cursor is returned. */
  synchronized String seal(String topic, int partition) {
    PartitionId id = new PartitionId(topic, partition);
    sealed.put(id, true);
    notifyAll();
    return Long.toString(data.getOrDefault(id, List.of()).size());
  }

  synchronized int size(String topic, int partition) {
    return data.getOrDefault(new PartitionId(topic, partition), List.of()).size();
  }

  @Override
  public Session<Record> open(PartitionGrant grant, String cursor) {
    PartitionId id = grant.id();
    long start;
    synchronized (this) {
      int open = openReaders.merge(id, 1, Integer::sum);
      if (open > 1) {
        doubleReaders.add(id + " opened while " + (open - 1) + " other reader(s) were open");
      }
      start = cursor != null ? Long.parseLong(cursor)
          : grant.startFrom() == io.cohort.statemachine.proto.StartFrom.END ? sizeOf(id) : 0;
    }
    return new Session<>() {
      long next = start;

      @Override
      public Batch<Record> poll(int maxRecords, long maxWaitMs) throws InterruptedException {
        synchronized (InMemoryLog.this) {
          long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
          while (sizeOf(id) <= next && !sealed.getOrDefault(id, false)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              break;
            }
            TimeUnit.NANOSECONDS.timedWait(InMemoryLog.this, left);
          }
          List<String> list = data.getOrDefault(id, List.of());
          List<Record> out = new ArrayList<>();
          while (next < list.size() && out.size() < maxRecords) {
            out.add(new Record(id, next, list.get((int) next)));
            next++;
          }
          boolean end = sealed.getOrDefault(id, false) && next >= list.size();
          return new Batch<>(out, Long.toString(next), end, (long) (list.size() - next), null);
        }
      }

      @Override
      public void close() {
        synchronized (InMemoryLog.this) {
          openReaders.merge(id, -1, Integer::sum);
        }
      }
    };
  }

  private long sizeOf(PartitionId id) {
    return data.getOrDefault(id, List.of()).size();
  }
}
