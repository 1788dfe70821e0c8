package io.cohort.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.junit.jupiter.api.Test;

class AppendRequestRaceTest {
  /** As Ratis 3.3.0 printed it when the appender to n3 died in a heartbeat bench step. */
  private static final String RACE = "n1@group-000000000001->n3: Previous = (t:2, i:74836) but firstIndex = 74850";

  /** Throws the queued failures in turn, then answers "request". */
  private static final class Builds implements AppendRequestRace.Builder<String, RuntimeException> {
    final Deque<RuntimeException> failures = new ArrayDeque<>();
    int calls;

    @Override
    public String build() {
      calls++;
      RuntimeException f = failures.poll();
      if (f != null) {
        throw f;
      }
      return "request";
    }
  }

  @Test
  void aRaceOnTheNextIndexSendsNothingThisTurnAndTheNextTurnBuildsTheRequest() {
    AppendRequestRace race = new AppendRequestRace("n1->n3");
    Builds builds = new Builds();
    builds.failures.add(new IllegalStateException(RACE));
    assertNull(race.build(builds), "nothing to send this turn");
    assertEquals("request", race.build(builds));
    assertEquals(1, race.caught());
    assertEquals(2, builds.calls);
  }

  @Test
  void theOtherMessageOfTheSameCheckIsTheSameRace() {
    assertTrue(AppendRequestRace.isNextIndexRace(new IllegalStateException(RACE)));
    assertTrue(AppendRequestRace.isNextIndexRace(
        new IllegalStateException("n1@group-000000000001->n3: firstIndex = 74850 != nextIndex = 74837")));
    assertFalse(AppendRequestRace.isNextIndexRace(
        new IllegalStateException("n1@group-000000000001->n3: Previous TermIndex not found for firstIndex = 74850")));
    assertFalse(AppendRequestRace.isNextIndexRace(new IllegalStateException("buffer has 3 elements.")));
    assertFalse(AppendRequestRace.isNextIndexRace(new IllegalStateException()));
  }

  @Test
  void aRaceThatKeepsComingGoesToRatisAfterAFewInARow() {
    AppendRequestRace race = new AppendRequestRace("n1->n3");
    Builds builds = new Builds();
    for (int i = 0; i <= AppendRequestRace.MAX_IN_A_ROW; i++) {
      builds.failures.add(new IllegalStateException(RACE));
    }
    for (int i = 0; i < AppendRequestRace.MAX_IN_A_ROW; i++) {
      assertNull(race.build(builds));
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> race.build(builds));
    assertEquals(RACE, e.getMessage());
    assertEquals(AppendRequestRace.MAX_IN_A_ROW, race.caught());
  }

  @Test
  void aSuccessStartsTheCountAgain() {
    AppendRequestRace race = new AppendRequestRace("n1->n3");
    Builds builds = new Builds();
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < AppendRequestRace.MAX_IN_A_ROW; i++) {
        builds.failures.add(new IllegalStateException(RACE));
      }
      for (int i = 0; i < AppendRequestRace.MAX_IN_A_ROW; i++) {
        assertNull(race.build(builds));
      }
      assertEquals("request", race.build(builds));
    }
    assertEquals(3L * AppendRequestRace.MAX_IN_A_ROW, race.caught());
  }

  @Test
  void anyOtherFailureGoesToRatisAtOnce() {
    AppendRequestRace race = new AppendRequestRace("n1->n3");
    Builds builds = new Builds();
    IllegalStateException other = new IllegalStateException("buffer has 3 elements.");
    builds.failures.add(other);
    assertSame(other, assertThrows(IllegalStateException.class, () -> race.build(builds)));
    IllegalArgumentException arg = new IllegalArgumentException(RACE);
    builds.failures.add(arg);
    assertSame(arg, assertThrows(IllegalArgumentException.class, () -> race.build(builds)));
    assertEquals(0, race.caught());
  }

  @Test
  void serversUseTheTransportWithTheseAppenders() {
    RaftProperties p = RatisSettings.forServer(ServerConfig.insecure("n1", Path.of("/tmp/s"), "n1=127.0.0.1:7001"));
    assertEquals(CohortGrpc.class.getName(), RaftConfigKeys.Rpc.type(p, s -> { }).name());
  }
}
