package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LeaderClockTest {
  private static final long MS = 1_000_000;

  @Test
  void R6_stampsFollowMonotonicTimeWhateverTheWallClockDoes() {
    LeaderClock clock = new LeaderClock();
    clock.lead(3, 0, 1_000_000, 50 * MS);
    assertTrue(clock.leads(3));
    assertFalse(clock.leads(4));
    assertEquals(1_000_000, clock.stampMs(50 * MS));
    // The wall clock may jump by +12 s or back by an hour: stamps only see the 100 ms that passed.
    assertEquals(1_000_100, clock.stampMs(150 * MS));
  }

  @Test
  void R6_aNewTermStartsFromTheLaterOfWallClockAndStateMachineTime() {
    LeaderClock clock = new LeaderClock();
    clock.lead(1, 5_000_000, 1_000_000, 0); // this node's wall clock is behind the state machine
    assertEquals(5_000_000, clock.stampMs(0));
    clock.lead(2, 5_000_010, 9_000_000, 0); // ahead: the term change pushes deadlines (R6)
    assertEquals(9_000_000, clock.stampMs(0));
  }

  @Test
  void R6_aMonotonicReadingBeforeTheBaseNeverMovesTimeBack() {
    LeaderClock clock = new LeaderClock();
    clock.lead(1, 0, 1_000, 10 * MS);
    assertEquals(1_000, clock.stampMs(5 * MS));
  }
}
