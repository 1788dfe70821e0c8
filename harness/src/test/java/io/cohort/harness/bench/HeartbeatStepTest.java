package io.cohort.harness.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.harness.Harness;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 14's goals for `cohort bench heartbeat`: when a step holds, R / ceiling, no collapse at 1.5x. */
class HeartbeatStepTest {
  @TempDir
  Path tmp;

  /** 10,000 consumers at 1 s: due 10,000/s. */
  private static HeartbeatStep step(double perS, double p99Ms, long rejoins, long expiries) {
    return new HeartbeatStep(10_000, 1000, perS, 10_000, 5, p99Ms, 9_000, 1_000, 10, 0, rejoins, expiries, 0, 1.5, 0.4);
  }

  @Test
  void sustainableNeedsP99Under200msNinetyPercentServedAndNoSessionLost() {
    assertTrue(step(9_000, 199.9, 0, 0).held());
    assertFalse(step(9_000, 200.0, 0, 0).held(), "p99 of 200 ms is not under 200");
    assertFalse(step(8_999, 50, 0, 0).held(), "under 90 % of the heartbeats due");
    assertFalse(step(10_000, 50, 1, 0).held(), "a consumer joined again");
    assertFalse(step(10_000, 50, 1, 1).held(), "a member expired");
    assertFalse(step(10_000, Double.NaN, 0, 0).held(), "nothing answered: no p99");
    assertEquals("p99 250.0 ms >= 200; served 50% of due; 2 rejoins; 1 expiries", step(5_000, 250, 2, 1).whyNotHeld());
  }

  @Test
  void noCollapseNeedsTheSustainableRateServedAndNoSessionLost() {
    double r = 9_500;
    assertTrue(step(9_500, 900, 0, 0).noCollapse(r), "p99 may grow under overload");
    assertFalse(step(9_499, 50, 0, 0).noCollapse(r), "served less than R: collapse");
    assertFalse(step(12_000, 50, 3, 0).noCollapse(r), "sessions lost");
    assertFalse(step(12_000, 50, 3, 3).noCollapse(r), "members expired");
  }

  @Test
  void ratioGoalIsFourTimesTheNoopCeiling() {
    assertEquals(4.0, HeartbeatStep.ratio(20_000, 5_000));
    assertTrue(HeartbeatStep.ratioMet(HeartbeatStep.ratio(20_000, 5_000)));
    assertFalse(HeartbeatStep.ratioMet(HeartbeatStep.ratio(19_999, 5_000)));
    assertTrue(Double.isNaN(HeartbeatStep.ratio(20_000, Double.NaN)), "no ceiling measured");
    assertTrue(Double.isNaN(HeartbeatStep.ratio(0, 5_000)), "no sustainable rate");
    assertFalse(HeartbeatStep.ratioMet(Double.NaN));
  }

  @Test
  void stepsAreWholeGroupsAndOverloadIsOneAndAHalfTimes() {
    assertEquals(4_500, HeartbeatStep.wholeGroups(4_500, 100));
    assertEquals(6_800, HeartbeatStep.wholeGroups(6_750, 100));
    assertEquals(7, HeartbeatStep.wholeGroups(7.2, 100), "below one group: as asked");
    assertEquals(1, HeartbeatStep.wholeGroups(0.2, 100));
    assertEquals(15_000, HeartbeatStep.overloadConsumers(10_000, 100));
    assertEquals(6_800, HeartbeatStep.overloadConsumers(4_500, 100));
    assertEquals(6, HeartbeatStep.overloadConsumers(4, 100), "below one group: 1.5x as asked");
    assertEquals(2, HeartbeatStep.overloadConsumers(1, 100), "always more consumers than the sustainable count");
    assertEquals(3, HeartbeatStep.overloadConsumers(2, 100));
  }

  @Test
  void quietShareIsOfTheAnsweredHeartbeats() {
    assertEquals(0.9, step(10_000, 5, 0, 0).quietShare(), 1e-9);
    assertTrue(Double.isNaN(new HeartbeatStep(1, 1000, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0).quietShare()));
  }

  @Test
  void benchHeartbeatRefusesBadNumbersBeforeStartingAnything() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Harness h = new Harness(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of());
    String never = tmp.resolve("never").toString();
    assertEquals(2, h.run("bench", "heartbeat", "--capacity-factor", "1", "--dir", never));
    assertEquals(2, h.run("bench", "heartbeat", "--capacity-max", "10", "--capacity-start", "20", "--dir", never));
    assertEquals(2, h.run("bench", "heartbeat", "--noop-in-flight", "128,0", "--dir", never));
    assertEquals(2, h.run("bench", "heartbeat", "--quiet", "maybe", "--dir", never));
    assertEquals(2, h.run("bench", "heartbeat", "--settle-max-s", "-1", "--dir", never));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--capacity-factor > 1"), err.toString(StandardCharsets.UTF_8));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--settle-max-s >= 0"), err.toString(StandardCharsets.UTF_8));
    assertTrue(!Files.exists(tmp.resolve("never")), "nothing started, no work dir");
  }
}
