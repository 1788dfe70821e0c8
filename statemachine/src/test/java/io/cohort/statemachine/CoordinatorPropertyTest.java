package io.cohort.statemachine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Whole-cluster simulations checked after every step (see {@link Simulation}). */
class CoordinatorPropertyTest {

  @Property(tries = 60, seed = "20261125")
  void invariantsHoldOverRandomRuns(@ForAll long seed) {
    new Simulation(seed).run(600);
  }

  /** Replays one seed; paste a failing seed here to debug it. */
  @Test
  void replayOneSeed() {
    Simulation sim = new Simulation(Long.getLong("sim.seed", 42L));
    sim.run(600);
    if (Boolean.getBoolean("sim.stats")) {
      System.out.println(sim.stats);
    }
  }
}
