package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.Pacer.Inputs;
import io.cohort.client.Pacer.Plan;
import io.cohort.client.Pacer.Send;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The consumer's timing on a fake clock: no threads, no cluster. */
class PacerTest {
  private static final long NONE = Long.MAX_VALUE;

  private final AtomicLong clock = new AtomicLong(1_000_000);
  private final ConsumerConfig config = ConsumerConfig.builder("g", "a").commitIntervalMs(1000).pollWaitMs(200)
      .retryMs(500).build();
  private final Pacer pacer = new Pacer(config, clock::get);

  private void advance(long ms) {
    clock.addAndGet(ms);
  }

  private static Inputs idle(long sto) {
    return new Inputs(true, sto, false, false, false, NONE, false);
  }

  private static Inputs pending(long sto, long oldestUnsentMs) {
    return new Inputs(true, sto, false, false, true, oldestUnsentMs, false);
  }

  /** Joins at the current time: the first heartbeat goes and succeeds at once. */
  private void joined(long nextHeartbeatMs) {
    assertEquals(Send.HEARTBEAT, pacer.plan(new Inputs(false, 0, false, false, false, NONE, false)).send());
    long sentAt = clock.get();
    pacer.heartbeatSent(0);
    pacer.heartbeatOk(sentAt, nextHeartbeatMs, 0);
  }

  @Test
  void R1_aHeartbeatGoesAtTheSuggestedIntervalFromTheLastSuccessfulSend() {
    joined(1000);
    Plan p = pacer.plan(idle(10_000));
    assertEquals(Send.NONE, p.send());
    assertEquals(clock.get() + 1000, p.wakeAtMs());
    advance(999);
    assertEquals(Send.NONE, pacer.plan(idle(10_000)).send());
    advance(1);
    assertEquals(Send.HEARTBEAT, pacer.plan(idle(10_000)).send());
  }

  @Test
  void aHeartbeatAskedForGoesAtOnce() {
    joined(1000);
    assertEquals(Send.HEARTBEAT, pacer.plan(new Inputs(true, 10_000, true, false, false, NONE, false)).send());
  }

  @Test
  void R1_aCheckpointRidesOnTheHeartbeatWhenOneIsDueWithinHalfTheCommitInterval() {
    joined(1200);
    long recorded = clock.get();
    advance(1000); // the checkpoint is due now, the heartbeat in 200 ms (< 500)
    Plan p = pacer.plan(pending(10_000, recorded));
    assertEquals(Send.NONE, p.send());
    assertEquals(recorded + 1200, p.wakeAtMs(), "wakes for the heartbeat that carries it");
  }

  @Test
  void aCheckpointGoesAloneOnceItIsCommitIntervalOldIfNoHeartbeatIsNear() {
    joined(10_000);
    long recorded = clock.get() + 100;
    advance(100);
    Plan p = pacer.plan(pending(30_000, recorded));
    assertEquals(Send.NONE, p.send());
    assertEquals(recorded + 1000, p.wakeAtMs());
    advance(1000);
    assertEquals(Send.COMMIT, pacer.plan(pending(30_000, recorded)).send());
  }

  @Test
  void aCommitAskedForGoesAtOnceUnlessAHeartbeatIsAboutToGo() {
    joined(10_000);
    Inputs asked = new Inputs(true, 30_000, false, true, true, clock.get(), false);
    assertEquals(Send.COMMIT, pacer.plan(asked).send());
    advance(9_600); // the heartbeat is 400 ms away: it carries the commit
    assertEquals(Send.NONE, pacer.plan(new Inputs(true, 30_000, false, true, true, clock.get(), false)).send());
  }

  @Test
  void failuresBackOffDoublingUpTo10Seconds() {
    joined(1000);
    long[] expected = {500, 1000, 2000, 4000, 8000, 10_000, 10_000};
    for (long delay : expected) {
      assertEquals(delay, pacer.failed());
      Plan p = pacer.plan(new Inputs(true, 60_000, true, true, true, 0, false));
      assertEquals(Send.NONE, p.send(), "nothing goes during the back-off");
      assertEquals(clock.get() + delay, p.wakeAtMs());
      advance(delay);
      assertEquals(Send.HEARTBEAT, pacer.plan(new Inputs(true, 60_000, true, true, true, 0, false)).send());
    }
    pacer.heartbeatOk(clock.get(), 1000, 1000);
    assertEquals(500, pacer.failed(), "a success resets the back-off");
  }

  @Test
  void eachFailuresBackOffIsSpreadOverHalfToOneAndAHalfOfItsDoublingDelay() {
    double[] factors = {0.5, 1.499, 1.0, 0.75, 1.4};
    AtomicInteger i = new AtomicInteger();
    Pacer p = new Pacer(config, clock::get, () -> factors[i.getAndIncrement()]);
    long sentAt = clock.get();
    p.heartbeatSent(0);
    p.heartbeatOk(sentAt, 1000, 0);
    // nominal 500, 1000, 2000, 4000, 8000; never past the 10 s cap
    long[] expected = {250, 1499, 2000, 3000, 10_000};
    for (long delay : expected) {
      assertEquals(delay, p.failed());
      Plan plan = p.plan(new Inputs(true, 60_000, true, true, true, 0, false));
      assertEquals(Send.NONE, plan.send(), "nothing goes during the back-off");
      assertEquals(clock.get() + delay, plan.wakeAtMs());
      advance(delay);
    }
  }

  @Test
  void R2_readersStopAtTheLastSuccessfulSendPlusTheSessionTimeoutMinusTheMargin() {
    joined(1000);
    long sentAt = clock.get();
    long sto = 10_000;
    long margin = config.marginFor(sto);
    assertEquals(2000, margin, "a fifth of the session timeout");
    assertEquals(sentAt + sto - margin, pacer.fenceAtMs(sto));
    assertEquals(sentAt + sto, pacer.sessionDeadlineMs(sto));
    pacer.failed(); // heartbeats fail from now on
    advance(sto - margin - 1);
    Plan before = pacer.plan(idle(sto));
    assertFalse(before.atRisk());
    advance(1);
    assertTrue(pacer.plan(idle(sto)).atRisk());
  }

  @Test
  void R2_theWatchdogWakesTheLoopEvenWithNothingElseDue() {
    joined(60_000);
    long sto = 10_000;
    Plan p = pacer.plan(idle(sto));
    assertEquals(pacer.fenceAtMs(sto), p.wakeAtMs(), "the fence comes before the next heartbeat");
  }

  @Test
  void R2_theMarginCoversOnePollPlusSlackEvenWhenAFifthOfTheSessionIsLess() {
    ConsumerConfig slowPolls = ConsumerConfig.builder("g", "a").pollWaitMs(400).build();
    assertEquals(400 + ConsumerConfig.MARGIN_SLACK_MS, slowPolls.marginFor(1000));
    Pacer p = new Pacer(slowPolls, clock::get);
    p.heartbeatOk(clock.get(), 300, 300);
    assertEquals(clock.get() + 1000 - 500, p.fenceAtMs(1000));
  }

  private static Inputs idle(long sto, boolean watchPlaced) {
    return new Inputs(true, sto, false, false, false, NONE, watchPlaced);
  }

  @Test
  void R12_aPlacedWatchLetsAHandoffWaitForTheGroupsIntervalInsteadOfItsShortPoll() {
    long sentAt = clock.get();
    pacer.heartbeatSent(0);
    pacer.heartbeatOk(sentAt, 100, 1000); // a handoff pending: the short poll
    Plan watched = pacer.plan(idle(10_000, true));
    assertEquals(Send.NONE, watched.send());
    assertEquals(sentAt + 1000, watched.wakeAtMs(), "the watch says when the handoff has news");
    assertEquals(sentAt + 100, pacer.plan(idle(10_000, false)).wakeAtMs(), "no watch: the handoff's own poll");
    advance(100);
    assertEquals(Send.NONE, pacer.plan(idle(10_000, true)).send());
    assertEquals(Send.HEARTBEAT, pacer.plan(idle(10_000, false)).send(), "the watch failed: poll at once");
    advance(900);
    assertEquals(Send.HEARTBEAT, pacer.plan(idle(10_000, true)).send(), "the group's interval still holds");
  }

  @Test
  void R12_aWatchNeverStretchesTheGroupsOwnIntervalNorABackoff() {
    joined(1000);
    long sentAt = clock.get();
    pacer.heartbeatSent(0);
    pacer.heartbeatOk(sentAt, 1000, 1000);
    assertEquals(sentAt + 1000, pacer.plan(idle(10_000, true)).wakeAtMs());
    pacer.heartbeatSent(0);
    pacer.heartbeatOk(sentAt, 100, 1000);
    pacer.retryAfter(50, 10_000); // shed: the retry-after decides, not the watch
    advance(50);
    assertEquals(Send.HEARTBEAT, pacer.plan(idle(10_000, true)).send());
  }

  @Test
  void notAMemberMeansNoWatchdog() {
    Plan p = pacer.plan(new Inputs(false, 0, false, false, false, NONE, false));
    assertFalse(p.atRisk());
  }

  @Test
  void shedding_aRetryLaterHoldsEverythingForItsDelayWithoutDoublingLaterBackoffs() {
    joined(1000);
    advance(1000);
    assertEquals(Send.HEARTBEAT, pacer.plan(idle(10_000)).send());
    pacer.heartbeatSent(1000);
    assertEquals(300, pacer.retryAfter(300, 10_000));
    Plan held = pacer.plan(idle(10_000));
    assertEquals(Send.NONE, held.send());
    assertEquals(clock.get() + 300, held.wakeAtMs());
    advance(300);
    assertEquals(Send.HEARTBEAT, pacer.plan(idle(10_000)).send(), "then at once");
    assertEquals(500, pacer.failed(), "a shed is not a failure: the next failure's backoff starts at retryMs");
  }

  @Test
  void shedding_aLongRetryAfterNeverOutlastsHalfTheTimeLeftBeforeTheReadersStop() {
    joined(1000);
    long sentAt = clock.get();
    pacer.heartbeatSent(1000);
    pacer.heartbeatOk(sentAt, 1000, 1000);
    long fenceAt = pacer.fenceAtMs(3000); // a 3 s session: the readers stop 600 ms early
    advance(1000);
    long left = fenceAt - clock.get();
    assertEquals(left / 2, pacer.retryAfter(2000, 3000), "half of what is left, not the leader's 2 s");
    assertEquals(clock.get() + left / 2, pacer.plan(idle(10_000)).wakeAtMs());
    assertEquals(2000, pacer.retryAfter(2000, 60_000), "a long session: the leader's retry-after as asked");
    advance(left - 50);
    assertEquals(Pacer.MIN_SHED_WAIT_MS, pacer.retryAfter(2000, 3000), "close to the fence: still a pause, not a storm");
  }

  @Test
  void shedding_beforeAnyHeartbeatSucceededTheRetryAfterIsAsAsked() {
    Pacer fromZero = new Pacer(config, () -> 0L); // a clock whose 0 looks like a recent success
    assertEquals(2000, fromZero.retryAfter(2000, 3000), "no success yet: no readers, no fence to keep");
  }
}
