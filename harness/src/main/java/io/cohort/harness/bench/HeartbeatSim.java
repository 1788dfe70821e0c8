package io.cohort.harness.bench;

import io.cohort.client.CohortClient;
import io.cohort.client.CohortRejectedException;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Simulated consumers: each keeps its session and held list and sends a {@code Heartbeat} command
 * at the interval the coordinator suggests (counted from when it sent the previous one), through a
 * few shared {@link CohortClient}s. A granted partition is held at once, a partition to release is
 * dropped at once (no data to flush).
 */
final class HeartbeatSim {
  private final List<CohortClient> clients;
  private final ScheduledExecutorService scheduler;
  private final List<Sim> sims = new ArrayList<>();
  private volatile boolean stopped;
  private volatile Latencies recording;
  final AtomicLong completed = new AtomicLong();
  final AtomicLong errors = new AtomicLong();
  final AtomicLong rejoins = new AtomicLong();
  /** Heartbeats an overloaded leader shed (RETRY_LATER, step 11): retried after its retry-after, session kept. */
  final AtomicLong shed = new AtomicLong();

  private final class Sim {
    final String group;
    final String id;
    final CohortClient client;
    com.google.protobuf.ByteString session = com.google.protobuf.ByteString.EMPTY;
    List<PartitionRef> held = List.of();

    Sim(String group, String id, CohortClient client) {
      this.group = group;
      this.id = id;
      this.client = client;
    }

    void beat() {
      if (stopped) {
        return;
      }
      long sent = System.nanoTime();
      Heartbeat hb = Heartbeat.newBuilder().setGroup(group).setConsumerId(id).setSessionToken(session).addAllHeld(held).build();
      CompletableFuture<HeartbeatResult> f;
      try {
        f = client.heartbeat(hb);
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      f.whenComplete((r, e) -> {
        long now = System.nanoTime();
        long nextMs;
        if (e == null) {
          completed.incrementAndGet();
          Latencies rec = recording;
          if (rec != null) {
            rec.add(now - sent);
          }
          session = r.getSessionToken();
          List<PartitionRef> h = new ArrayList<>();
          for (Grant g : r.getGrantsList()) {
            PartitionRef ref = PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()).build();
            if (!r.getReleaseList().contains(ref)) {
              h.add(ref);
            }
          }
          held = h;
          nextMs = r.getNextHeartbeatMs();
        } else {
          Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (t instanceof CohortRejectedException re && re.code() == Code.RETRY_LATER) {
            shed.incrementAndGet(); // as GroupConsumer does: wait the retry-after with jitter, keep the session
            nextMs = TimeUnit.NANOSECONDS.toMillis(now - sent) // counted from the answer, not the send
                + (long) (re.retryAfterMs(500) * (0.5 + ThreadLocalRandom.current().nextDouble()));
          } else if (t instanceof CohortRejectedException re && (re.code() == Code.UNKNOWN_MEMBER || re.code() == Code.FENCED)) {
            rejoins.incrementAndGet();
            session = com.google.protobuf.ByteString.EMPTY;
            held = List.of();
            nextMs = 0;
          } else {
            errors.incrementAndGet();
            nextMs = 500;
          }
        }
        long delayNs = Math.max(0, sent + TimeUnit.MILLISECONDS.toNanos(nextMs) - now);
        schedule(this, delayNs);
      });
    }
  }

  HeartbeatSim(List<CohortClient> clients, int threads) {
    this.clients = clients;
    this.scheduler = Executors.newScheduledThreadPool(threads, r -> {
      Thread t = new Thread(r, "bench-heartbeat");
      t.setDaemon(true);
      return t;
    });
  }

  private void schedule(Sim s, long delayNs) {
    if (!stopped) {
      try {
        scheduler.schedule(s::beat, delayNs, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // stopping
      }
    }
  }

  /** Adds consumers {@code prefix-0..n-1} of {@code group}; their first heartbeats spread over {@code spreadMs}. */
  void add(String group, String prefix, int n, long spreadMs) {
    for (int i = 0; i < n; i++) {
      Sim s = new Sim(group, prefix + "-" + i, clients.get(sims.size() % clients.size()));
      sims.add(s);
      schedule(s, TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextLong(Math.max(1, spreadMs))));
    }
  }

  int size() {
    return sims.size();
  }

  void record(Latencies into) {
    recording = into;
  }

  /** Stops heartbeating; every member leaves (so the next step starts from an empty cluster). */
  void stop() throws InterruptedException {
    stopped = true;
    scheduler.shutdownNow();
    scheduler.awaitTermination(10, TimeUnit.SECONDS);
    List<CompletableFuture<?>> leaves = new ArrayList<>();
    for (Sim s : sims) {
      if (!s.session.isEmpty()) {
        leaves.add(s.client.leave(Leave.newBuilder().setGroup(s.group).setConsumerId(s.id).setSessionToken(s.session).build())
            .exceptionally(e -> null));
      }
      if (leaves.size() >= 512) {
        CompletableFuture.allOf(leaves.toArray(CompletableFuture[]::new)).join();
        leaves.clear();
      }
    }
    CompletableFuture.allOf(leaves.toArray(CompletableFuture[]::new)).join();
  }
}
