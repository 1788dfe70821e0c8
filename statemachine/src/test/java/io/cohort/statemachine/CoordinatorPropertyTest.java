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

  /**
   * Replays one seed: paste a failing seed here, or pass it, e.g. {@code mvn -o -pl statemachine test
   * -Dtest=CoordinatorPropertyTest#replayOneSeed -DargLine="-Dsim.seed=-6 -Dsim.trace=g1 -Dsim.stats=true"}
   * (trace: every command touching that group, with its answer; stats: what the run exercised).
   */
  @Test
  void replayOneSeed() {
    Simulation sim = new Simulation(Long.getLong("sim.seed", 42L));
    sim.run(600);
    if (Boolean.getBoolean("sim.stats")) {
      System.out.println(sim.stats);
    }
  }
}
