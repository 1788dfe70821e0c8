package io.cohort.harness.chaos;

import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.client.PartitionId;
import io.cohort.client.ReadMode;
import io.cohort.harness.bench.ServerProcesses;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.DigestView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * What the chaos run checks at its end, from the ledger its consumers kept and the cluster's final
 * state: no acknowledged commit lost, never two holders and increasing epochs (R2, R3), children
 * read only after their parents (R5), replicas byte-identical (R8).
 */
final class ChaosChecks {
  private final Ledger ledger;
  private final Map<Integer, Long> splitEnds;
  private final Map<Integer, List<Integer>> splitChildren;
  private final Map<String, Long> counts;
  private final List<String> violations;
  private final Consumer<String> say;

  ChaosChecks(Ledger ledger, Map<Integer, Long> splitEnds, Map<Integer, List<Integer>> splitChildren,
      Map<String, Long> counts, List<String> violations, Consumer<String> say) {
    this.ledger = ledger;
    this.splitEnds = splitEnds;
    this.splitChildren = splitChildren;
    this.counts = counts;
    this.violations = violations;
    this.say = say;
  }

  void check(ServerProcesses servers, CohortClient admin) {
    for (String id : servers.ids()) {
      if (!servers.isAlive(id)) {
        violation("server " + id + " is not running at the end");
      }
    }
    checkCommits(admin);
    checkHolds();
    checkOrder(admin);
    checkReplicas(servers, admin);
  }

  private void checkCommits(CohortClient admin) {
    Map<PartitionId, String> finalCursor = new TreeMap<>();
    for (String group : List.of(ChaosDriver.PLAIN_GROUP, ChaosDriver.ORDERED_GROUP)) {
      for (CheckpointView c : admin.blocking().listCheckpoints(group).getCheckpointsList()) {
        finalCursor.put(new PartitionId(c.getTopic(), c.getPartition()), c.getCursor());
      }
    }
    long partitions = 0;
    for (Map.Entry<PartitionId, Long> e : ledger.ackedMax().entrySet()) {
      partitions++;
      String fin = finalCursor.get(e.getKey());
      if (fin == null || Long.parseLong(fin) < e.getValue()) {
        violation("lost commit: " + e.getKey() + " acknowledged " + e.getValue() + ", final checkpoint " + fin);
      }
    }
    for (String start : ledger.startsBelowAcked()) {
      violation("acknowledged records read again: " + start);
    }
    counts.put("reader starts compared with the acknowledged cursor", ledger.startsChecked());
    counts.put("acknowledged commits", ledger.acked());
    counts.put("partitions with acknowledged commits", partitions);
    long records = 0;
    long dup = 0;
    for (Ledger.Reads r : ledger.reads().values()) {
      records += r.records;
      dup += r.duplicates;
    }
    counts.put("records processed", records);
    counts.put("records processed again (at-least-once, not a violation)", dup);
    ledger.againAfter().forEach((after, n) -> counts.put("records processed again after " + after, n));
  }

  private void checkHolds() {
    Map<PartitionId, List<Ledger.Hold>> byPartition = new TreeMap<>();
    List<Ledger.Hold> all = ledger.holds();
    for (Ledger.Hold h : all) {
      byPartition.computeIfAbsent(h.partition, k -> new ArrayList<>()).add(h);
    }
    long pairs = 0;
    for (Map.Entry<PartitionId, List<Ledger.Hold>> e : byPartition.entrySet()) {
      List<Ledger.Hold> hs = e.getValue();
      hs.sort((a, b) -> Long.compare(a.startNanos, b.startNanos));
      for (int i = 1; i < hs.size(); i++) {
        Ledger.Hold prev = hs.get(i - 1);
        Ledger.Hold cur = hs.get(i);
        pairs++;
        if (cur.startNanos < prev.end()) {
          violation("two holders of " + e.getKey() + ": " + prev + " and " + cur);
        }
        boolean sameGrant = cur.epoch == prev.epoch && cur.consumer.equals(prev.consumer);
        if (cur.epoch <= prev.epoch && !sameGrant) {
          violation("epoch of " + e.getKey() + " did not increase: " + prev + " then " + cur);
        }
      }
    }
    counts.put("grants (reader starts)", (long) all.size());
    counts.put("releases (reader stops)", all.stream().filter(h -> h.endNanos >= 0).count());
    counts.put("consecutive holds compared", pairs);
    counts.put("partitions held", (long) byPartition.size());
  }

  private void checkOrder(CohortClient admin) {
    Map<Integer, Boolean> finished = new TreeMap<>();
    for (CheckpointView c : admin.blocking().listCheckpoints(ChaosDriver.ORDERED_GROUP).getCheckpointsList()) {
      finished.put(c.getPartition(), c.getFinished());
    }
    long children = 0;
    for (Map.Entry<Integer, List<Integer>> e : splitChildren.entrySet()) {
      int parent = e.getKey();
      long end = splitEnds.get(parent);
      Ledger.Reads pr = ledger.readsOf(new PartitionId(ChaosDriver.ORDERED_TOPIC, parent));
      for (int child : e.getValue()) {
        Ledger.Reads cr = ledger.readsOf(new PartitionId(ChaosDriver.ORDERED_TOPIC, child));
        if (cr == null) {
          continue; // not read yet
        }
        children++;
        if (end > 0 && (pr == null || pr.maxOffset < end - 1)) {
          violation("order: child " + child + " was read but parent " + parent + " was not read to its end " + end);
        } else if (pr != null && cr.firstNanos < pr.lastNanos) {
          violation("order: child " + child + " read " + (pr.lastNanos - cr.firstNanos) / 1_000_000
              + " ms before parent " + parent + "'s last record");
        }
        if (!Boolean.TRUE.equals(finished.get(parent))) {
          violation("order: child " + child + " was read but parent " + parent + " is not finished");
        }
      }
    }
    counts.put("splits", (long) splitChildren.size());
    counts.put("children read after their parent (order=true)", children);
  }

  /** The final members' digests (after replacements, not the initial three), through a client that knows them. */
  private void checkReplicas(ServerProcesses servers, CohortClient ignored) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    String last = "";
    List<String> members = servers.ids();
    CohortClientConfig config;
    try {
      config = servers.clientConfig().callTimeout(Duration.ofSeconds(30)).build(); // the admin, with the servers' transport
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    try (CohortClient admin = CohortClient.connect(config)) {
      while (System.nanoTime() < deadline) {
        servers.awaitCaughtUp(Duration.ofSeconds(10));
        try {
          List<DigestView> digests = new ArrayList<>();
          for (String id : members) {
            digests.add(admin.blocking().stateDigest(ReadMode.stale(id)));
          }
          last = digests.toString().replace('\n', ' ');
          if (digests.stream().distinct().count() == 1) {
            say.accept("replicas " + members + " identical: applied index " + digests.get(0).getAppliedIndex()
                + ", sha256 " + digests.get(0).getSha256());
            counts.put("replicas with the same state digest", (long) members.size());
            counts.put("applied index compared", digests.get(0).getAppliedIndex());
            return;
          }
        } catch (RuntimeException e) {
          last = e.toString();
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
      }
    }
    violation("replicas " + members + " differ after 90 s: " + last);
  }

  private void violation(String v) {
    violations.add(v);
    say.accept("VIOLATION: " + v);
  }
}
