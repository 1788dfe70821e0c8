package io.cohort.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Command;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The leader's admitted-but-unapplied writes, and the wait a quiet heartbeat makes on them (step 11). */
class PendingWritesTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final PendingWrites pending = new PendingWrites(nanos::get);

  @Test
  void R2_aQuietAnswerWaitsForEveryWriteAdmittedBeforeIt_notForThoseAfter() {
    assertTrue(pending.applied(1_000).join(), "nothing pending: at once");
    long first = pending.admit();
    long second = pending.admit();
    CompletableFuture<Boolean> waiting = pending.applied(60_000);
    long later = pending.admit();
    pending.done(second);
    assertFalse(waiting.isDone(), "the first write is not applied");
    long third = pending.admit();
    CompletableFuture<Boolean> behindTwo = pending.applied(60_000);
    pending.done(first);
    assertFalse(behindTwo.isDone(), "the later and the third write were admitted before it too");
    assertTrue(waiting.isDone() && waiting.join(), "both writes ahead of it are applied; the later one does not count");
    assertEquals(2, pending.size());
    pending.done(later);
    pending.done(third);
    assertTrue(behindTwo.isDone() && behindTwo.join());
    assertEquals(0, pending.size());
  }

  @Test
  void completionsInAnyOrderReleaseEachWaiterExactlyWhenItsWritesAreBack() {
    long a = pending.admit();
    CompletableFuture<Boolean> afterA = pending.applied(60_000);
    long b = pending.admit();
    CompletableFuture<Boolean> afterB = pending.applied(60_000);
    pending.done(b);
    assertFalse(afterA.isDone());
    assertFalse(afterB.isDone());
    pending.done(a);
    assertTrue(afterA.isDone() && afterB.isDone());
    pending.done(a); // applied twice (a cancelled write Ratis still applied): ignored
    assertEquals(0, pending.size());
  }

  @Test
  void aWaitThatOutlivesItsTimeoutEndsFalse_andTheOldestWritesAgeIsMeasured() {
    long stuck = pending.admit();
    nanos.addAndGet(1_500_000_000L);
    assertEquals(1_500, pending.oldestAgeMs());
    CompletableFuture<Boolean> waiting = pending.applied(50);
    await().atMost(Duration.ofSeconds(10)).until(waiting::isDone);
    assertFalse(waiting.join(), "timed out");
    pending.done(stuck);
    assertEquals(0, pending.oldestAgeMs());
  }

  @Test
  void losingTheLeadershipReleasesEveryWaiterAndForgetsItsWrites() {
    long t = pending.admit();
    CompletableFuture<Boolean> waiting = pending.applied(60_000);
    pending.clear();
    assertTrue(waiting.isDone());
    assertEquals(0, pending.size());
    pending.done(t); // applied later as a follower: nothing to release
    assertEquals(0, pending.size());
    assertSame(Boolean.TRUE, pending.applied(1).join());
  }

  /**
   * Thousands in flight (the ring grows), returned in a shuffled order, against a sorted-set model:
   * the waiters, the oldest's age and its kind.
   */
  @Test
  void manyWritesBackInAnyOrder_releaseWaitersAndReportTheOldestAsASortedSetWould() {
    java.util.Random random = new java.util.Random(14);
    java.util.TreeMap<Long, Long> model = new java.util.TreeMap<>();
    java.util.List<Long> open = new java.util.ArrayList<>();
    java.util.Map<CompletableFuture<Boolean>, Long> waiters = new java.util.HashMap<>();
    java.util.Map<Long, Command.BodyCase> kinds = new java.util.HashMap<>();
    Command.BodyCase[] some = {Command.BodyCase.HEARTBEAT, Command.BodyCase.TICK, Command.BodyCase.COMMIT_CHECKPOINTS};
    for (int step = 0; step < 20_000; step++) {
      nanos.addAndGet(1_000_000L + random.nextInt(1_000_000));
      if (open.isEmpty() || random.nextInt(100) < (step < 10_000 ? 60 : 40)) {
        Command.BodyCase kind = some[random.nextInt(some.length)];
        long t = pending.admit(kind);
        model.put(t, nanos.get());
        kinds.put(t, kind);
        open.add(t);
      } else {
        long t = open.remove(random.nextInt(open.size()));
        pending.done(t);
        model.remove(t);
      }
      if (random.nextInt(50) == 0) {
        waiters.put(pending.applied(600_000), model.isEmpty() ? 0 : model.lastKey());
      }
      assertEquals(model.size(), pending.size());
      assertEquals(model.isEmpty() ? 0 : (nanos.get() - model.firstEntry().getValue()) / 1_000_000, pending.oldestAgeMs());
      assertEquals(model.isEmpty() ? null : kinds.get(model.firstKey()), pending.oldestKind(), "what the oldest is");
      long lowest = model.isEmpty() ? Long.MAX_VALUE : model.firstKey();
      waiters.forEach((w, upTo) -> assertEquals(upTo < lowest, w.isDone(), "a waiter for tickets up to " + upTo));
    }
    open.forEach(pending::done);
    assertEquals(0, pending.size());
    assertTrue(waiters.keySet().stream().allMatch(w -> w.isDone() && w.join()));
  }
}
