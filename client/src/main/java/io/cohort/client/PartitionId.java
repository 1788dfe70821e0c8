package io.cohort.client;

import io.cohort.statemachine.proto.PartitionRef;
import java.util.Comparator;

/** One partition of one topic. */
public record PartitionId(String topic, int partition) implements Comparable<PartitionId> {
  private static final Comparator<PartitionId> ORDER =
      Comparator.comparing(PartitionId::topic).thenComparingInt(PartitionId::partition);

  public static PartitionId of(PartitionRef ref) {
    return new PartitionId(ref.getTopic(), ref.getPartition());
  }

  PartitionRef toRef() {
    return PartitionRef.newBuilder().setTopic(topic).setPartition(partition).build();
  }

  @Override
  public int compareTo(PartitionId o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return topic + "/" + partition;
  }
}
