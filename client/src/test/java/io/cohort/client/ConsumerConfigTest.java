package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConsumerConfigTest {
  @Test
  void defaults() {
    ConsumerConfig c = ConsumerConfig.builder("g", "a").build();
    assertEquals(1000, c.commitIntervalMs());
    assertEquals(200, c.pollWaitMs());
    assertEquals(Math.min(16, 2 * Runtime.getRuntime().availableProcessors()), c.readerThreads());
    assertTrue(c.autoCommit());
    assertEquals(2000, c.marginFor(10_000), "a fifth of the session timeout");
  }

  @Test
  void theOldConstructorStillWorksWithTheNewDefaults() {
    ConsumerConfig c = new ConsumerConfig("g", "a", 1000, 500, 200, 0, 500, 500, 10_000);
    assertEquals(ConsumerConfig.defaultReaderThreads(), c.readerThreads());
    assertTrue(c.autoCommit());
  }

  @Test
  void R2_anExplicitMarginShorterThanOnePollPlusSlackIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConsumerConfig.builder("g", "a").pollWaitMs(200).sessionMarginMs(250).build());
    assertTrue(e.getMessage().contains("must cover one poll"), e.getMessage());
    assertEquals(300, ConsumerConfig.builder("g", "a").pollWaitMs(200).sessionMarginMs(300).build().marginFor(60_000));
  }

  @Test
  void R2_theMarginNeverDropsBelowOnePollPlusSlack() {
    ConsumerConfig c = ConsumerConfig.builder("g", "a").pollWaitMs(300).build();
    assertEquals(400, c.marginFor(1000), "a fifth (200 ms) would be shorter than one poll");
    assertEquals(2000, c.marginFor(10_000));
  }

  @Test
  void R2_aSessionTimeoutTheMarginDoesNotFitInIsExplained() {
    ConsumerConfig c = ConsumerConfig.builder("g", "a").pollWaitMs(600).build();
    assertNull(c.sessionTimeoutProblem(10_000));
    String problem = c.sessionTimeoutProblem(1000);
    assertTrue(problem.contains("700 ms") && problem.contains("1000 ms") && problem.contains("pollWaitMs"), problem);
  }

  @Test
  void badSettingsAreRefusedWithTheirValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConsumerConfig.builder("g", "a").readerThreads(0).build());
    assertTrue(e.getMessage().contains("readerThreads=0"), e.getMessage());
  }
}
