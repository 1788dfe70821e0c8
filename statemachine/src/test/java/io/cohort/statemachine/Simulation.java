package io.cohort.statemachine;

import java.util.ArrayList;

/**
 * A seeded run of a whole cluster's life against the coordinator, checked after every step.
 *
 * <p>The leader stamps commands with a {@link LeaderClock} fed by a simulated wall clock that steps
 * back and forth (within a term and across terms, where each leader's clock differs) and by a
 * monotonic clock that follows real time. Consumer processes ({@link SimProcess}) judge their
 * sessions by their own drifting clocks; they lose answers, send commands again, crash, come back,
 * run twice with one consumer id (takeover), release promptly, slowly or never. Admins split,
 * merge, weigh, reset (one or many), create, change and delete groups and topics. Two replicas
 * apply in lockstep, a third rebuilt from an export joins now and then.
 *
 * <p>Invariants: never two readers of a partition by the processes' own view (R2); epochs never
 * decrease; in order=true groups a partition is read only once all its ancestors are finished,
 * and never beside one of them (R5); an acknowledged commit is never lost nor carries an epoch older
 * than the one in force (R3); replicas identical (R8); counts as ClusterInfo says (R9). In quiet
 * periods, with everyone honest: balance (R4), nothing moves while nothing changes, and a consumer
 * that joins and leaves before anyone heartbeats moves nothing (R4). A failure names its seed.
 */
final class Simulation extends SimQuietPeriods {
  Simulation(long seed) {
    super(seed);
  }

  void run(int steps) {
    leader.lead(term, 0, wallMs(), monoNs());
    setUp();
    int rebuildAt = 10 + rnd.nextInt(60);
    for (step = 0; step < steps; step++) {
      if (step == rebuildAt) {
        rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(primary).iterator(), LIMITS);
        rebuildAt += 60 + rnd.nextInt(120);
      }
      randomAction();
      checkStep();
      if (step % 50 == 49) {
        checkReplicasAndCounts();
      }
      if (step % 150 == 149) {
        quietPeriod();
      }
    }
    quietPeriod();
    checkReplicasAndCounts();
  }

  void randomAction() {
    int roll = rnd.nextInt(1000);
    action = "roll " + roll;
    if (roll < 520) {
      processAction();
    } else if (roll < 800) {
      realMs += 20 + rnd.nextInt(300);
      tick();
    } else if (roll < 825) {
      realMs += 1_000 + rnd.nextInt(5_000); // everyone stalls: sessions run out
      tick();
    } else if (roll < 845) {
      action += " new leader";
      newLeader();
      tick();
    } else if (roll < 865) {
      action += " wall clock step";
      wallOffsetMs += rnd.nextInt(60_001) - 30_000; // NTP or an operator, within the term
    } else if (roll < 890) {
      split();
    } else if (roll < 905) {
      merge();
    } else if (roll < 915) {
      weight();
    } else if (roll < 935) {
      reset();
    } else if (roll < 950) {
      resetMany();
    } else if (roll < 962) {
      updateGroup();
    } else if (roll < 985) {
      dynamicGroup();
    } else if (roll < 995) {
      garbage();
    } else {
      String g = pick(new ArrayList<>(groups.keySet()));
      activeIds.put(g, 1 + rnd.nextInt(MAX_IDS)); // more or fewer consumers from now on
    }
  }

}
