package io.cohort.client;

import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * When a consumer heartbeats, commits and fences itself: pure timing on an injected monotonic
 * clock (milliseconds), no threads, no I/O.
 *
 * <ul>
 *   <li>Heartbeats go at the interval the coordinator suggested (from the send time of the last one
 *       that succeeded), or at once when the protocol asks (a release is ready, a rejoin is due).
 *       A handoff's shorter interval is kept only while no watch is placed; with one, the group's
 *       interval (the watch makes the consumer heartbeat once the handoff has news for it).
 *   <li>A checkpoint not yet sent goes in its own command once it is {@code commitIntervalMs} old
 *       (or at once when asked) unless a heartbeat is due within half of that: then it rides on it.
 *   <li>After a failure nothing goes for {@code retryMs}, doubling while failures repeat, up to 10 s,
 *       each spread over [0.5, 1.5) of itself: consumers whose calls failed together (a leader lost,
 *       one Ratis client's window failed at once) do not come back together.
 *   <li>Self-fencing (R2, R6): the session is judged from the send time of the last heartbeat that
 *       succeeded; the server's deadline is at least that plus the session timeout. Readers stop at
 *       that instant minus the margin ({@link ConsumerConfig#marginFor}), which covers one poll.
 * </ul>
 */
final class Pacer {
  static final long FIRST_INTERVAL_MS = 1000;
  static final long MAX_BACKOFF_MS = 10_000;

  enum Send {
    NONE,
    HEARTBEAT,
    COMMIT
  }

  /**
   * What the protocol state says right now.
   *
   * @param member the consumer has a session
   * @param sessionTimeoutMs the group's session timeout (0 before the first result)
   * @param heartbeatNow a heartbeat should go at once
   * @param commitNow pending checkpoints should go at once
   * @param hasPending some checkpoint is not acknowledged yet
   * @param oldestUnsentMs when the oldest checkpoint not yet sent was recorded (MAX_VALUE: none)
   * @param watchPlaced a watch waits on the leader for this consumer's assignment to change (R12)
   */
  record Inputs(boolean member, long sessionTimeoutMs, boolean heartbeatNow, boolean commitNow,
      boolean hasPending, long oldestUnsentMs, boolean watchPlaced) {}

  /**
   * @param send what to send now (only asked while nothing is in flight)
   * @param atRisk the session may be lost: readers must stop now
   * @param wakeAtMs when to look again if nothing else happens (MAX_VALUE: never)
   */
  record Plan(Send send, boolean atRisk, long wakeAtMs) {}

  private final ConsumerConfig config;
  private final LongSupplier clockMs;
  /** A failure's back-off factor, in [0.5, 1.5). */
  private final DoubleSupplier jitter;
  private long nextHeartbeatAtMs;
  /** While a watch is placed: when a handoff's poll is due (the group's interval; MIN_VALUE: no stretch). */
  private long watchedHeartbeatAtMs = Long.MIN_VALUE;
  private long lastOkSentAtMs;
  private boolean everOk;
  private long retryNotBeforeMs = Long.MIN_VALUE;
  private int failuresInARow;

  /** Back-offs exactly as configured (tests). */
  Pacer(ConsumerConfig config, LongSupplier clockMs) {
    this(config, clockMs, () -> 1.0);
  }

  /** @param jitter a failure's back-off factor, in [0.5, 1.5) */
  Pacer(ConsumerConfig config, LongSupplier clockMs, DoubleSupplier jitter) {
    this.config = config;
    this.clockMs = clockMs;
    this.jitter = jitter;
    this.nextHeartbeatAtMs = clockMs.getAsLong();
  }

  long now() {
    return clockMs.getAsLong();
  }

  /** A heartbeat goes now; {@code suggestedMs} is the last suggested interval (0: none yet). */
  void heartbeatSent(long suggestedMs) {
    nextHeartbeatAtMs = now() + (suggestedMs > 0 ? suggestedMs : FIRST_INTERVAL_MS);
    watchedHeartbeatAtMs = Long.MIN_VALUE;
  }

  /**
   * The heartbeat sent at {@code sentAtMs} succeeded. {@code groupIntervalMs} (0: unknown) is the
   * group's own interval: while a watch is placed ({@link Inputs#watchPlaced}) a handoff's shorter
   * poll waits for it, since the watch says when the handoff has something for this consumer.
   */
  void heartbeatOk(long sentAtMs, long nextHeartbeatMs, long groupIntervalMs) {
    lastOkSentAtMs = sentAtMs;
    everOk = true;
    failuresInARow = 0;
    nextHeartbeatAtMs = sentAtMs + Math.max(1, nextHeartbeatMs);
    watchedHeartbeatAtMs = groupIntervalMs > nextHeartbeatMs ? sentAtMs + groupIntervalMs : Long.MIN_VALUE;
  }

  void commitOk() {
    failuresInARow = 0;
  }

  /** A call failed: wait before the next one. Returns the delay. */
  long failed() {
    long nominal = Math.min(MAX_BACKOFF_MS, config.retryMs() << Math.min(failuresInARow, 10));
    long delay = Math.min(MAX_BACKOFF_MS, Math.max(1, (long) (nominal * jitter.getAsDouble())));
    failuresInARow++;
    retryNotBeforeMs = now() + delay;
    nextHeartbeatAtMs = Math.min(nextHeartbeatAtMs, retryNotBeforeMs);
    watchedHeartbeatAtMs = Long.MIN_VALUE;
    return delay;
  }

  /** The shortest wait {@link #retryAfter} shortens a retry-after to. */
  static final long MIN_SHED_WAIT_MS = 100;

  /**
   * The leader shed a call (RETRY_LATER, step 11): nothing goes for {@code delayMs} (the caller
   * adds the jitter), but never longer than half the time left before the readers must stop (at
   * least {@link #MIN_SHED_WAIT_MS}): a saturated leader asks for up to 2 s, spread to 3 s, and a
   * group's session may be as short as 1 s, so a consumer that waited as asked would stop reading
   * while its session was still live (the leader renews a shed member). Not a failure: the backoff
   * does not double, and the session is judged as before (readers stop at the fence time if no
   * heartbeat succeeds by then; no rejoin). Returns the wait.
   */
  long retryAfter(long delayMs, long sessionTimeoutMs) {
    long wait = Math.max(0, delayMs);
    long left = fenceAtMs(sessionTimeoutMs) - now();
    if (everOk && sessionTimeoutMs > 0 && left > 0) {
      wait = Math.min(wait, Math.max(MIN_SHED_WAIT_MS, left / 2));
    }
    retryNotBeforeMs = now() + wait;
    nextHeartbeatAtMs = Math.min(nextHeartbeatAtMs, retryNotBeforeMs);
    watchedHeartbeatAtMs = Long.MIN_VALUE;
    return wait;
  }

  /** Send time of the last heartbeat that succeeded. */
  long lastOkSentAtMs() {
    return lastOkSentAtMs;
  }

  /** When readers must stop unless a heartbeat succeeds first. */
  long fenceAtMs(long sessionTimeoutMs) {
    return lastOkSentAtMs + sessionTimeoutMs - config.marginFor(sessionTimeoutMs);
  }

  /** The earliest instant the coordinator may expire this session. */
  long sessionDeadlineMs(long sessionTimeoutMs) {
    return lastOkSentAtMs + sessionTimeoutMs;
  }

  /** What to do now, and when to look again. */
  Plan plan(Inputs in) {
    long now = now();
    boolean watched = in.member() && in.sessionTimeoutMs() > 0;
    long fenceAt = watched ? fenceAtMs(in.sessionTimeoutMs()) : Long.MAX_VALUE;
    boolean atRisk = now >= fenceAt;
    long wakeForFence = atRisk ? Long.MAX_VALUE : fenceAt;
    if (now < retryNotBeforeMs) {
      return new Plan(Send.NONE, atRisk, Math.min(retryNotBeforeMs, wakeForFence));
    }
    long heartbeatAt = in.watchPlaced() ? Math.max(nextHeartbeatAtMs, watchedHeartbeatAtMs) : nextHeartbeatAtMs;
    if (in.heartbeatNow() || now >= heartbeatAt) {
      return new Plan(Send.HEARTBEAT, atRisk, wakeForFence);
    }
    long commitAt = Long.MAX_VALUE;
    if (in.member() && in.hasPending()) {
      long due = in.oldestUnsentMs() == Long.MAX_VALUE ? Long.MAX_VALUE : in.oldestUnsentMs() + config.commitIntervalMs();
      boolean heartbeatSoon = heartbeatAt - now <= config.commitIntervalMs() / 2;
      if ((in.commitNow() || now >= due) && !heartbeatSoon) {
        return new Plan(Send.COMMIT, atRisk, wakeForFence);
      }
      if (!heartbeatSoon) {
        commitAt = due;
      }
    }
    return new Plan(Send.NONE, atRisk, Math.min(wakeForFence, Math.min(heartbeatAt, commitAt)));
  }
}
