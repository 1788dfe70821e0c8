package io.cohort.client.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.CohortException;
import io.cohort.client.Peers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The wait for added nodes to vote after a membership change, the new leader made when one does not, and the wait for a new leader. */
class EnsureVotingTest {
  private static final List<Peers.Peer> ADDING = Peers.parse("n4=127.0.0.1:9004").list();
  private static final String NOT_RUNNING = "n4@group is not in [RUNNING]: current state is STARTING";

  private final List<String> progress = new ArrayList<>();
  private final AtomicInteger newLeaders = new AtomicInteger();

  @Test
  void aNodeThatVotesSoonNeedsNoNewLeader() {
    AtomicInteger asked = new AtomicInteger();
    Reconfiguration.ensureVoting("n4 added", ADDING, p -> asked.incrementAndGet() < 3 ? NOT_RUNNING : null, 5_000,
        5_000, newLeaders::incrementAndGet, progress::add);
    assertEquals(0, newLeaders.get(), progress.toString());
    assertEquals(3, asked.get());
  }

  @Test
  void aNodeLeftStartingIsStartedByANewLeader() {
    AtomicBoolean newLeader = new AtomicBoolean();
    Reconfiguration.ensureVoting("n4 added", ADDING, p -> newLeader.get() ? null : NOT_RUNNING, 600, 5_000,
        () -> newLeader.set(newLeaders.incrementAndGet() > 0), progress::add);
    assertEquals(1, newLeaders.get());
    assertTrue(progress.stream().anyMatch(l -> l.contains("n4 does not vote yet (" + NOT_RUNNING + ")")),
        progress.toString());
  }

  @Test
  void aNodeThatNeverVotesFailsTheChangeWithItsReason() {
    CohortException e = assertThrows(CohortException.class, () -> Reconfiguration.ensureVoting("n4 added", ADDING,
        p -> NOT_RUNNING, 300, 300, newLeaders::incrementAndGet, progress::add));
    assertEquals(1, newLeaders.get());
    assertTrue(e.getMessage().startsWith("n4 added: committed, but n4 does not vote yet (" + NOT_RUNNING + ")"),
        e.getMessage());
  }

  /** A hand-off that an election overtook ends as soon as another voter leads, not after the whole wait. */
  @Test
  void aLeaderOtherThanTheOneAskedForEndsTheWaitAtOnce() {
    java.util.Iterator<String> seen = List.of("n1", "n1", "n2").iterator();
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    assertEquals("n2", Reconfiguration.awaitOtherLeader(() -> seen.hasNext() ? seen.next() : "n2", "n1", deadline));
    assertTrue(System.nanoTime() < deadline - java.util.concurrent.TimeUnit.SECONDS.toNanos(50));
    assertEquals(null, Reconfiguration.awaitOtherLeader(() -> "n1", "n1", System.nanoTime() + 300_000_000L));
  }
}
