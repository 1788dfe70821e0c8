package io.cohort.server;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a leader's AppendEntries request again when Ratis 3.3.0's check of it trips on a race.
 *
 * <p>{@code LogAppenderBase.newAppendEntriesRequest} reads the follower's next index twice: once for
 * the previous entry, once for the first entry to send. A reply handled between the two reads moves
 * it, and the request's own check throws ("Previous = (t:2, i:74836) but firstIndex = 74850"). The
 * appender then dies and Ratis starts a new one from index 0: under load on 2 cores that resent
 * thousands of entries the follower already had, and the follower, hearing nothing it could use,
 * started pre-votes for about 2 s (seen in 3 of 13 heartbeat bench runs, once inside a measured step).
 * Nothing was sent when the check throws (the entries it read are dropped), so the next turn of the
 * appender's loop builds the request from the index as it stands. Only that check's failures are
 * caught, and only a few in a row: anything persistent still stops the appender as before.
 */
final class AppendRequestRace {
  private static final Logger LOG = LoggerFactory.getLogger(AppendRequestRace.class);
  /** Races in a row before the failure goes to Ratis (which restarts the appender). */
  static final int MAX_IN_A_ROW = 3;

  /** Ratis' request builder. */
  interface Builder<T, E extends Exception> {
    T build() throws E;
  }

  private final String appender;
  private final AtomicLong caught = new AtomicLong();
  private int inARow; // the appender builds its requests under its own lock

  AppendRequestRace(String appender) {
    this.appender = appender;
  }

  /** The request, or null (nothing to send this turn) when the follower's next index moved under the build. */
  <T, E extends Exception> T build(Builder<T, E> builder) throws E {
    try {
      T request = builder.build();
      inARow = 0;
      return request;
    } catch (IllegalStateException e) {
      if (!isNextIndexRace(e) || ++inARow > MAX_IN_A_ROW) {
        throw e;
      }
      caught.incrementAndGet();
      LOG.info("{}: the follower's next index moved while the request was built ({}); built again next turn",
          appender, e.getMessage());
      return null;
    }
  }

  /** The two messages of {@code LogAppenderBase.assertProtos} that compare the next index read twice. */
  static boolean isNextIndexRace(IllegalStateException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains(": Previous = ") && m.contains(" but firstIndex = ")
        || m.contains(": firstIndex = ") && m.contains(" != nextIndex = ");
  }

  long caught() {
    return caught.get();
  }
}
