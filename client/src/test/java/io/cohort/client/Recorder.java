package io.cohort.client;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/** A test consumer's processor and listener: records what it read, when, and what it was told. */
final class Recorder implements RecordProcessor<InMemoryLog.Record>, ConsumerListener {
  /** One processed record; {@code seq} orders records across all consumers of a test. */
  record Processed(long seq, String consumer, PartitionId partition, long offset, long epoch) {}

  record Event(String kind, PartitionId partition, long epoch, String cursor, RevokeReason reason) {}

  private final String consumerId;
  private final AtomicLong sequence;
  private final List<Processed> processed;
  final List<Event> events = new CopyOnWriteArrayList<>();
  /** Highest acknowledged cursor per partition (as an offset). */
  final Map<PartitionId, Long> acked = new ConcurrentHashMap<>();
  volatile boolean fenced;
  final List<Throwable> errors = new CopyOnWriteArrayList<>();

  Recorder(String consumerId, AtomicLong sequence, List<Processed> processed) {
    this.consumerId = consumerId;
    this.sequence = sequence;
    this.processed = processed;
  }

  @Override
  public void process(PartitionGrant grant, List<InMemoryLog.Record> records) {
    for (InMemoryLog.Record r : records) {
      processed.add(new Processed(sequence.incrementAndGet(), consumerId, r.partition(), r.offset(), grant.epoch()));
    }
  }

  @Override
  public void onAssigned(PartitionGrant grant, String startCursor) {
    events.add(new Event("assigned", grant.id(), grant.epoch(), startCursor, null));
  }

  @Override
  public void onRevoked(PartitionGrant grant, RevokeReason reason) {
    events.add(new Event("revoked", grant.id(), grant.epoch(), null, reason));
  }

  @Override
  public void onCommitted(PartitionId partition, long epoch, String cursor, boolean finished) {
    acked.merge(partition, Long.parseLong(cursor), Math::max);
  }

  @Override
  public void onFenced() {
    fenced = true;
  }

  @Override
  public void onError(PartitionId partition, Throwable error) {
    errors.add(error);
  }

  long revoked(RevokeReason reason) {
    return events.stream().filter(e -> e.reason() == reason).count();
  }
}
