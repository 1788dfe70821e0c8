package io.cohort.statemachine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Random command sequences checked after every step (see {@link Simulation}). */
class CoordinatorPropertyTest {

  @Property(tries = 1000, seed = "20261125")
  void invariantsHoldOverRandomSequences(@ForAll long seed) {
    new Simulation(seed).run(200);
  }

  /** Replays one seed; paste a failing seed here to debug it. */
  @Test
  void replayOneSeed() {
    new Simulation(42L).run(200);
  }
}
