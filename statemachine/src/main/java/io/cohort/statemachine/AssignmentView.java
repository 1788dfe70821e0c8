package io.cohort.statemachine;

import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import java.util.HashSet;
import java.util.Set;

/**
 * A member's assignment as a heartbeat would tell it, folded into 64 bits (R12): each grant of the
 * current session (topic, partition, epoch) and whether its release is asked. The client folds its
 * last heartbeat result, the leader folds the applied state; when they differ the member has
 * something to learn and should heartbeat. Order-free (a sum of mixed entries); a collision only
 * delays the hint to the regular interval. Never 0 (0 = unknown).
 */
public final class AssignmentView {
  private static final long EMPTY = 0x9E3779B97F4A7C15L;

  private AssignmentView() {}

  /** The view a heartbeat result describes. */
  public static long of(HeartbeatResult r) {
    Set<String> released = new HashSet<>();
    for (PartitionRef ref : r.getReleaseList()) {
      released.add(ref.getPartition() + "/" + ref.getTopic());
    }
    long sum = EMPTY;
    for (Grant g : r.getGrantsList()) {
      sum += entry(g.getTopic(), g.getPartition(), g.getEpoch(),
          released.contains(g.getPartition() + "/" + g.getTopic()));
    }
    return sum == 0 ? 1 : sum;
  }

  /** The view the member's state gives; the same fold as {@link #of(HeartbeatResult)}. */
  static long of(MemberState member) {
    long sum = EMPTY;
    for (int i = 0, n = member.held.size(); i < n; i++) {
      Slot slot = member.held.get(i);
      if (!slot.oldSession) {
        sum += entry(slot.topic, slot.info.id, slot.epoch, slot.releasing);
      }
    }
    return sum == 0 ? 1 : sum;
  }

  private static long entry(String topic, int partition, long epoch, boolean releasing) {
    long h = topic.hashCode() * 0x100000001B3L + partition;
    h = h * 31 + epoch;
    h = h * 2 + (releasing ? 1 : 0);
    return mix(h);
  }

  /** SplitMix64's finaliser: spreads every input bit over the result. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
