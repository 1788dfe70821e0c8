package io.cohort.statemachine;

import io.cohort.statemachine.proto.PartitionStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * A compact summary of the state for metrics (step 9), taken under the state lock at scrape time:
 * counts per group, and one small sample per unfinished partition up to a cap, so the lock is held
 * for one pass over the slots and the allocation is bounded by the cap, not by the state. Statuses
 * come from {@link Statuses} and health from {@link Health}: the same decisions `group describe`
 * makes.
 */
public final class MetricsView {
  private MetricsView() {}

  /** One group: members and its partitions counted by status ({@link #partitions}). */
  public record GroupCounts(String group, int members, long sessionTimeoutMs, int[] byStatus) {
    /** Partitions of this group in {@code status} (as `group describe` would show them). */
    public int partitions(PartitionStatus status) {
      return byStatus[status.ordinal()];
    }
  }

  /**
   * One unfinished partition of a group.
   *
   * @param holder the holding consumer, or null
   * @param holderHeartbeatMs the holder's last heartbeat (state machine ms), or -1 without a holder
   * @param committedAtMs when its checkpoint was committed or reset, or -1 without a checkpoint
   * @param lag records behind as the reader last reported with a commit, or -1 when unknown
   * @param lagMs age of the newest record read, as last reported, or -1 when unknown
   * @param health stalled, lag stale, failing and the ages, as `group describe` judges them
   */
  public record PartitionSample(String group, String topic, int partition, PartitionStatus status,
      String holder, long holderHeartbeatMs, long sessionTimeoutMs, long committedAtMs, long lag,
      long lagMs, Health.Verdict health) {}

  /**
   * @param nowMs the state machine's time (R6): ages are measured against it
   * @param partitions samples in (group, topic, partition) order, at most the cap asked for
   * @param partitionsOmitted unfinished partitions beyond the cap
   * @param stallAfterMs the threshold the samples were judged with
   */
  public record Summary(long nowMs, long appliedIndex, int topics, List<GroupCounts> groups,
      List<PartitionSample> partitions, long partitionsOmitted, long stallAfterMs) {}

  static Summary of(CoordinatorState state, int maxPartitions, long stallAfterMs) {
    int statuses = PartitionStatus.values().length;
    List<GroupCounts> groups = new ArrayList<>(state.groups.size());
    List<PartitionSample> samples = new ArrayList<>(Math.min(maxPartitions, 1024));
    long omitted = 0;
    for (GroupState g : state.groups.values()) {
      int[] byStatus = new int[statuses];
      for (List<Slot> slots : g.slots.values()) {
        Readiness.Lineage lineage = g.order ? new Readiness.Lineage(g, slots) : null;
        for (int i = 0, n = slots.size(); i < n; i++) {
          Slot s = slots.get(i);
          PartitionStatus status = Statuses.of(g, s, lineage);
          byStatus[status.ordinal()]++;
          if (status == PartitionStatus.FINISHED) {
            continue;
          }
          if (samples.size() >= maxPartitions) {
            omitted++;
            continue;
          }
          Checkpoint c = s.checkpoint;
          samples.add(new PartitionSample(g.name, s.topic, s.info.id, status,
              s.holder == null ? null : s.holder.consumerId, s.holder == null ? -1 : s.holder.lastHeartbeatMs,
              g.sessionTimeoutMs, c == null ? -1 : c.committedAtMs(), c == null ? -1 : c.lag(),
              c == null ? -1 : c.lagMs(), Health.of(g, s, state.nowMs, stallAfterMs)));
        }
      }
      groups.add(new GroupCounts(g.name, g.members.size(), g.sessionTimeoutMs, byStatus));
    }
    return new Summary(state.nowMs, state.appliedIndex, state.topics.size(), groups, samples, omitted,
        stallAfterMs);
  }
}
