package io.cohort.client;

import io.cohort.client.ConsumerState.Action;
import io.cohort.statemachine.proto.Code;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The partitions a consumer holds, the readers running on them, and the epochs it saw fenced.
 * Shared by {@link ConsumerState} (membership) and {@link CheckpointBook} (commits); one thread.
 */
final class PartitionTable {
  private final TreeMap<PartitionId, HeldPartition> parts = new TreeMap<>();
  /** Highest epoch per partition whose commit was fenced: older grants are stale. */
  private final Map<PartitionId, Long> fencedEpochs = new HashMap<>();
  /** Readers started and not yet stopped, per partition (0 or 1 except while restarting). */
  private final Map<PartitionId, Integer> liveReaders = new HashMap<>();

  Map<PartitionId, HeldPartition> asMap() {
    return parts;
  }

  Collection<HeldPartition> all() {
    return parts.values();
  }

  HeldPartition get(PartitionId id) {
    return parts.get(id);
  }

  /** The partition if it is held under this epoch, else null. */
  HeldPartition current(PartitionId id, long epoch) {
    HeldPartition p = parts.get(id);
    return p != null && p.grant.epoch() == epoch ? p : null;
  }

  void put(HeldPartition p) {
    parts.put(p.id(), p);
  }

  /** Forgets a partition; commit futures still waiting for it fail: their checkpoint will never go. */
  void drop(HeldPartition p, List<Action> out, Code code, String why) {
    parts.remove(p.id());
    List<CompletableFuture<Void>> waiters = p.takeAllWaiters();
    if (!waiters.isEmpty()) {
      out.add(new Action.Settle(waiters, new CohortRejectedException(code,
          p.id() + " epoch " + p.grant.epoch() + " is no longer held (" + why + ")")));
    }
  }

  /** Drops every partition, stopping their readers (the session is gone). */
  void dropAll(RevokeReason reason, Code code, List<Action> out) {
    for (HeldPartition p : new ArrayList<>(parts.values())) {
      out.add(new Action.Stop(p.grant, reason));
      drop(p, out, code, "session lost");
    }
    fencedEpochs.clear();
  }

  void fenced(PartitionId id, long epoch) {
    fencedEpochs.merge(id, epoch, Math::max);
  }

  /** True when a newer epoch of this partition was already fenced. */
  boolean stale(PartitionId id, long epoch) {
    Long fencedAt = fencedEpochs.get(id);
    return fencedAt != null && fencedAt >= epoch;
  }

  /** A reader is started on it (counted at once, so the result that starts it sees it). */
  void readerStarted(PartitionId id) {
    liveReaders.merge(id, 1, Integer::sum);
  }

  void readerStopped(PartitionId id) {
    liveReaders.computeIfPresent(id, (k, n) -> n <= 1 ? null : n - 1);
  }

  int liveReaders(PartitionId id) {
    return liveReaders.getOrDefault(id, 0);
  }

  boolean readersStopped() {
    return liveReaders.isEmpty();
  }
}
