package io.cohort.client;

import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.StartFrom;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * E2 rebalance time with real consumers (DESIGN §6 "rebalance"): A and B hold three partitions
 * each; C joins; the time runs from C's first heartbeat until C reads its second partition (then
 * the group is balanced 2/2/2 and every partition held again, which is checked).
 *
 * <p>Phase: with {@code random} (the default) C joins after a seeded random delay in [0, interval)
 * once A and B are balanced, as a consumer joining at an arbitrary moment would; with {@code
 * aligned} it joins at once, i.e. right after A's and B's heartbeats (the worst case: both learn
 * about C one full interval later).
 *
 * <p>Usage: {@code RebalanceBench [runs=7] [intervalsMs=1000,5000] [warmupRuns=2] [random|aligned] [seed=1]}.
 */
public final class RebalanceBench {
  private RebalanceBench() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    String intervals = args.length > 1 ? args[1] : "1000,5000";
    int warmups = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    boolean aligned = args.length > 3 && args[3].equals("aligned");
    java.util.Random random = new java.util.Random(args.length > 4 ? Long.parseLong(args[4]) : 1);
    Path dir = Files.createTempDirectory("cohort-rebalance-bench");
    try (ClusterFixture fx = new ClusterFixture(dir)) {
      System.out.printf("cluster up (3 in-JVM nodes, leader %s); %d warm-up run(s) at 1000 ms; phase %s%n",
          fx.cluster.leaderId(), warmups, aligned ? "aligned" : "random");
      int[] seq = {0};
      for (int i = 0; i < warmups; i++) {
        run(fx, 1000, ++seq[0], 0);
      }
      for (String s : intervals.split(",")) {
        long interval = Long.parseLong(s.trim());
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
          long ms = run(fx, interval, ++seq[0], aligned ? 0 : random.nextInt((int) interval));
          times.add(ms);
          System.out.printf("interval %d ms run %d: %d ms (%.2fx)%n", interval, i + 1, ms, ms / (double) interval);
        }
        List<Long> sorted = new ArrayList<>(times);
        Collections.sort(sorted);
        double median = sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
            : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2.0;
        System.out.printf("RESULT interval=%d ms runs=%d min=%d median=%.0f max=%d ms  median/interval=%.2fx  all=%s%n",
            interval, runs, sorted.get(0), median, sorted.get(sorted.size() - 1), median / interval, times);
      }
    }
  }

  /** One E2 round in a fresh group; returns ms from C's first heartbeat to C reading two partitions. */
  private static long run(ClusterFixture fx, long intervalMs, int n, long phaseMs) throws Exception {
    String topic = "rb" + n;
    String group = "g-rb" + n;
    fx.admin.blocking().createTopic(topic, 6);
    fx.admin.blocking().createGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic)
        .setHeartbeatIntervalMs(intervalMs).setSessionTimeoutMs(Math.max(10_000, 3 * intervalMs))
        .setStartFrom(StartFrom.BEGIN).build());
    var a = fx.consumer(group, "a", fx.recorder("a"));
    fx.awaitBalanced(group, List.of(a));
    var b = fx.consumer(group, "b", fx.recorder("b"));
    fx.awaitBalanced(group, List.of(a, b));

    AtomicLong assigned = new AtomicLong();
    CompletableFuture<Long> second = new CompletableFuture<>();
    ConsumerListener timing = new ConsumerListener() {
      @Override
      public void onAssigned(PartitionGrant grant, String startCursor) {
        if (assigned.incrementAndGet() == 2) {
          second.complete(System.nanoTime());
        }
      }
    };
    // A benchmark, not a test: the delay sets where C's join falls in A's and B's cycle.
    java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(phaseMs));
    long t0 = System.nanoTime();
    GroupConsumer<InMemoryLog.Record> c = GroupConsumer.start(fx.newClient(),
        ConsumerConfig.builder(group, "c").commitIntervalMs(200).pollWaitMs(50).build(),
        fx.log, (g, records) -> { }, timing);
    fx.track(c);
    try {
      long t1 = second.get(60, TimeUnit.SECONDS);
      fx.awaitBalanced(group, List.of(a, b, c)); // 2/2/2, all held, each reads what it holds
      return TimeUnit.NANOSECONDS.toMillis(t1 - t0);
    } finally {
      fx.closeConsumers();
      fx.admin.blocking().deleteGroup(group, true);
    }
  }
}
