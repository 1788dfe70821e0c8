package io.cohort.server;

import io.cohort.statemachine.LeaderClock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The times this server stamps into commands while it leads (R6): {@link LeaderClock} fed by the
 * server's {@link ServerClock}. Each term starts once, from the state machine's time after every
 * earlier entry is applied, so a wall-clock step within a term changes no stamp, and a new leader
 * whose wall clock is behind continues from the state's time instead of freezing it.
 */
final class LeaderStamps {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderStamps.class);

  private final ServerClock clock;
  private final LeaderClock leaderClock = new LeaderClock();
  private volatile String name = "unknown";

  LeaderStamps(ServerClock clock) {
    this.clock = clock;
  }

  /** The node's id, for logs, once Ratis told it. */
  void rename(String nodeName) {
    this.name = nodeName;
  }

  /**
   * Starts {@code term} unless it was started already. Call once the term's start-up entry is
   * applied ({@code notifyLeaderReady}), so {@code stateMachineNowMs} is final.
   */
  synchronized void lead(long term, long stateMachineNowMs) {
    if (leaderClock.leads(term)) {
      return;
    }
    long wallMs = clock.wallMs();
    leaderClock.lead(term, stateMachineNowMs, wallMs, clock.monotonicNanos());
    long baseMs = leaderClock.stampMs(clock.monotonicNanos());
    if (wallMs < stateMachineNowMs) {
      LOG.warn("[{}] leading term {}: wall clock {} ms behind the state's time; stamps continue from {}",
          name, term, stateMachineNowMs - wallMs, baseMs);
    } else {
      LOG.info("[{}] leading term {}: stamps start at wall clock {}", name, term, baseMs);
    }
  }

  /**
   * The stamp for a command accepted now in {@code term}. Ratis marks a leader ready (start-up entry
   * applied) just before it calls {@code notifyLeaderReady}, so a write may come first: then the
   * term starts here. A write seen while not ready is refused by Ratis right after, whatever its
   * stamp; it gets the previous base, never a raw wall-clock reading.
   */
  /** Whether this node's stamps run for {@code term} (started by {@link #lead}). */
  synchronized boolean leads(long term) {
    return leaderClock.leads(term);
  }

  /** What a command accepted now would be stamped with in the term this node leads (its ticker asks). */
  synchronized long peekMs() {
    return leaderClock.stampMs(clock.monotonicNanos());
  }

  synchronized long stampMs(long term, boolean leaderReady, LongSupplier stateMachineNowMs) {
    if (leaderReady && !leaderClock.leads(term)) {
      lead(term, stateMachineNowMs.getAsLong());
    }
    return leaderClock.stampMs(clock.monotonicNanos());
  }
}
