package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The client's bound on calls in flight, on a fake clock: calls are futures the test completes. */
class CallAdmissionTest {
  private static final long FAR = Long.MAX_VALUE / 2;

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  /** The calls started, in order; each completes when the test says. */
  private final List<CompletableFuture<String>> started = new ArrayList<>();

  private CompletableFuture<String> submit(CallAdmission a, long deadlineNanos) {
    return a.submit(() -> {
      CompletableFuture<String> call = new CompletableFuture<>();
      started.add(call);
      return call;
    }, deadlineNanos, "write");
  }

  private static Throwable failure(CompletableFuture<?> f) {
    assertTrue(f.isCompletedExceptionally(), "expected a failure, got " + f);
    try {
      f.join();
      throw new AssertionError("unreachable");
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  @Test
  void callsBeyondTheBoundWaitWithoutBlockingTheCallerAndStartInOrderAsSlotsFree() {
    CallAdmission a = new CallAdmission(2, 10, clock::get);
    List<CompletableFuture<String>> results = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      results.add(submit(a, FAR)); // returns at once: this thread never waits for a slot
    }
    assertEquals(2, started.size(), "only maxInFlight calls go out");
    assertEquals(3, a.queued());

    started.get(1).complete("b");
    assertEquals("b", results.get(1).join());
    assertEquals(3, started.size(), "a freed slot starts the first call waiting");
    started.get(0).complete("a");
    started.get(2).complete("c");
    assertEquals(5, started.size());
    started.get(3).complete("d");
    started.get(4).complete("e");
    assertEquals(List.of("a", "b", "c", "d", "e"), results.stream().map(CompletableFuture::join).toList());
    assertEquals(0, a.inFlight());
    assertEquals(0, a.queued());
  }

  @Test
  void aCallBeyondTheQueuesBoundFailsAtOnceUnsent() {
    CallAdmission a = new CallAdmission(1, 2, clock::get);
    submit(a, FAR);
    submit(a, FAR);
    submit(a, FAR);
    CompletableFuture<String> refused = submit(a, FAR);

    Throwable t = failure(refused);
    assertInstanceOf(CohortUnavailableException.class, t);
    assertTrue(((CohortException) t).isRetriable());
    assertTrue(t.getMessage().contains("1 calls in flight and 2 waiting"), t.getMessage());
    assertEquals(1, started.size());
    assertEquals(2, a.queued());
  }

  @Test
  void aQueuedCallPastItsDeadlineFailsUnsentAndTheSlotGoesToTheNext() {
    CallAdmission a = new CallAdmission(1, 10, clock::get);
    submit(a, FAR);
    CompletableFuture<String> late = submit(a, clock.get() + 5_000_000_000L);
    CompletableFuture<String> onTime = submit(a, clock.get() + 60_000_000_000L);

    clock.addAndGet(6_000_000_000L);
    started.get(0).complete("first");

    Throwable t = failure(late);
    assertInstanceOf(CohortUnavailableException.class, t);
    assertTrue(t.getMessage().contains("waited 6000 ms"), t.getMessage());
    assertEquals(2, started.size(), "the late call was never sent; the next one was");
    started.get(1).complete("next");
    assertEquals("next", onTime.join());
    assertEquals(0, a.inFlight());
  }

  @Test
  void aFailedCallFreesItsSlotAndItsCallerSeesTheFailure() {
    CallAdmission a = new CallAdmission(1, 10, clock::get);
    CompletableFuture<String> first = submit(a, FAR);
    CompletableFuture<String> second = submit(a, FAR);
    started.get(0).completeExceptionally(new IllegalStateException("boom"));
    assertInstanceOf(IllegalStateException.class, failure(first));
    assertEquals(2, started.size());
    started.get(1).complete("ok");
    assertEquals("ok", second.join());
  }

  @Test
  void callsThatFailAsTheyStartDrainTheQueueWithoutGrowingTheStack() {
    CallAdmission a = new CallAdmission(1, 200_000, clock::get);
    CompletableFuture<String> first = submit(a, FAR);
    AtomicInteger tried = new AtomicInteger();
    List<CompletableFuture<String>> refused = new ArrayList<>();
    for (int i = 0; i < 200_000; i++) { // a closed client: every call fails as it is started
      refused.add(a.submit(() -> {
        tried.incrementAndGet();
        throw new IllegalStateException("closed");
      }, FAR, "write"));
    }
    started.get(0).complete("a");

    assertEquals("a", first.join());
    assertEquals(200_000, tried.get());
    assertTrue(refused.stream().allMatch(CompletableFuture::isCompletedExceptionally));
    assertEquals(0, a.inFlight());
    assertEquals(0, a.queued());
  }
}
