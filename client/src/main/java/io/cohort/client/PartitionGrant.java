package io.cohort.client;

import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.StartFrom;

/**
 * A partition this consumer may read, as the coordinator granted it.
 *
 * @param id the partition
 * @param epoch the grant's epoch; every commit carries it (R3), a new epoch means "restart from
 *     {@code cursor}" (an admin reset or a new grant)
 * @param cursor the checkpoint to resume from, or null when the partition has none (then start
 *     from {@code startFrom})
 * @param startFrom where to start without a checkpoint: BEGIN or END
 * @param sealed the partition was split or merged: it ends, and reading it to its end finishes it
 * @param endCursor for a sealed partition, the cursor just past its last record if known, else null
 */
public record PartitionGrant(PartitionId id, long epoch, String cursor, StartFrom startFrom,
    boolean sealed, String endCursor) {

  public static PartitionGrant of(Grant g) {
    return new PartitionGrant(new PartitionId(g.getTopic(), g.getPartition()), g.getEpoch(),
        g.hasCursor() ? g.getCursor() : null,
        g.getStartFrom() == StartFrom.END ? StartFrom.END : StartFrom.BEGIN,
        g.getState() == PartitionState.SEALED, g.hasEndCursor() ? g.getEndCursor() : null);
  }

  public String topic() {
    return id.topic();
  }

  public int partition() {
    return id.partition();
  }

  /** True when {@code position} is this sealed partition's known end. */
  public boolean isEnd(String position) {
    return sealed && endCursor != null && endCursor.equals(position);
  }
}
