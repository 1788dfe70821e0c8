package io.cohort.server;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Protocol;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Heartbeats off the log on the leader (step 11): answers a quiet heartbeat from the applied state
 * and keeps the liveness it proves in {@link Renewals} for the ticker's next {@code Tick}; a shed
 * heartbeat of the current session leaves a renewal too, and so does one answered NEEDS_WRITE
 * while its session is live (the client got no answer it may read by, so R2 is untouched; only the
 * expiry waits while its replicated copy queues behind other writes).
 *
 * <p>A quiet heartbeat is answered only when this node is the leader, ready, leading its term's
 * clock and heard from a majority within the election timeout's minimum ({@link LeaderFreshness}:
 * a follower votes for another leader only after that long without hearing from this one), and
 * only once every command it admitted before the query arrived is applied ({@link PendingWrites}:
 * a ticket is taken before the stamp), so the answer reflects everything stamped before the client
 * sent it (R2). Not the leader: NEEDS_WRITE, and the client sends the replicated heartbeat. The
 * Raft leader not ready yet or not fresh: RETRY_LATER (it answers soon or steps down; sending the
 * heartbeat to its log would only queue it there); one that is not fresh renews a live member all
 * the same (its ticks commit only through a majority, and it forgets its renewals when it stops
 * leading). Writes not applied within {@link Shedding#SHED_AGE_MS}: RETRY_LATER (the leader is
 * saturated), and the member is renewed. Never a ReadIndex round: the client sends it on its stream of quiet
 * heartbeats ({@link WatchService}); one sent as a Ratis read (the query {@code quiet_heartbeat})
 * gets the same answer, for clients that still send it that way.
 */
final class OffLogLiveness {
  private static final Logger LOG = LoggerFactory.getLogger(OffLogLiveness.class);
  private static final long UNFRESH_NOTE_EVERY_NANOS = 10_000_000_000L;
  /** A wait for earlier writes this long is noted (the heartbeat bench's p99 limit). */
  static final long SLOW_WAIT_NANOS = 200_000_000L;
  private static final long SLOW_WAIT_NOTE_EVERY_NANOS = 5_000_000_000L;
  /**
   * A Raft leader's retry-after while it cannot answer yet (the clients spread it over 0.5-1.5x): a
   * usual heartbeat interval, so that its refusals cost it no more than the heartbeats did (at
   * 200 ms, 8,500 consumers would send it ~40,000 a second while it is not ready). A new leader
   * gives every member a full session from its election (R6), so waiting costs no session.
   */
  static final long NOT_YET_RETRY_MS = 1_000;

  /** Runs a read of the applied state under the state machine's apply lock. */
  interface AppliedState {
    <T> T read(Function<Coordinator, T> read);
  }

  /** Who may answer: the term this node leads, ready and heard from a majority lately, else -1. */
  interface Leadership {
    long freshTerm();

    /**
     * Whether this node leads its term (ready, leading the term's clock), fresh or not: a leader
     * that has not heard from a majority lately answers nothing off the log, but may still count a
     * live member's heartbeat as life; only its ticks carry that, and they commit only through a
     * majority.
     */
    default boolean leads() {
      return freshTerm() >= 0;
    }

    /**
     * Whether this node is the Raft leader of its term, ready or not, fresh or not: a quiet
     * heartbeat it cannot answer yet gets RETRY_LATER from it, not NEEDS_WRITE.
     */
    default boolean raftLeader() {
      return leads();
    }
  }

  private final LeaderStamps stamps;
  private final PendingWrites pending;
  private final NodeEvents events;
  private final AppliedState applied;
  private final Executor afterWait;
  /**
   * Answers whose writes were applied (or whose wait timed out), answered in batches on {@code
   * afterWait}: one pass under the locks for up to {@link #ANSWER_BATCH} of them, instead of one
   * task and two rounds of the apply lock each. In a join storm nearly every quiet heartbeat waits
   * (bench heartbeat, 15,200 consumers: 1,441 answers came after the client's 10 s timeout).
   */
  private final ConcurrentLinkedQueue<Waiting> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean answering = new AtomicBoolean();
  /** Bounds how long the apply thread waits for the apply lock behind one batch. */
  static final int ANSWER_BATCH = 256;
  private final Renewals renewals = new Renewals();
  private volatile Leadership leadership = () -> -1;
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong answeredOk = new AtomicLong();
  private final AtomicLong waited = new AtomicLong();
  private final AtomicLong shedRenewed = new AtomicLong();
  private final AtomicLong needsWriteRenewed = new AtomicLong();
  private final AtomicLong unfreshRenewed = new AtomicLong();
  private final AtomicLong lastUnfreshNoteNanos = new AtomicLong(System.nanoTime() - UNFRESH_NOTE_EVERY_NANOS);
  private final AtomicLong slowWaits = new AtomicLong();
  private final AtomicLong slowWaitsNoted = new AtomicLong();
  private final LongAccumulator longestWaitNanos = new LongAccumulator(Math::max, 0);
  /** Slow waits since the last note, by what they waited behind. */
  private final Map<String, LongAdder> slowBehind = new ConcurrentHashMap<>();
  private final AtomicLong lastSlowWaitNoteNanos = new AtomicLong(System.nanoTime() - SLOW_WAIT_NOTE_EVERY_NANOS);

  /**
   * A quiet heartbeat whose wait for earlier writes ended: {@code applied} false if it timed out;
   * {@code sinceNanos} when it began to wait.
   */
  private record Waiting(Heartbeat hb, String principal, long term, boolean applied, long sinceNanos,
      Command.BodyCase behind, CompletableFuture<QueryResult> answer) {}

  /** @param afterWait runs the answers that waited for writes (not the apply thread that released them) */
  OffLogLiveness(LeaderStamps stamps, PendingWrites pending, NodeEvents events, AppliedState applied,
      Executor afterWait) {
    this.stamps = stamps;
    this.pending = pending;
    this.events = events;
    this.applied = applied;
    this.afterWait = afterWait;
  }

  void judgeLeadershipBy(Leadership l) {
    leadership = l;
  }

  CompletableFuture<QueryResult> answer(Heartbeat hb, String principal) {
    long term = leadership.freshTerm();
    if (term < 0) {
      if (leadership.leads()) {
        // A saturated leader slow to hear from its followers (> the election timeout's minimum):
        // its sender is alive all the same (R7); only its ticks carry that, through a majority.
        renewIfLive(hb, principal);
      }
      if (leadership.raftLeader()) {
        // Just elected, or not heard from a majority lately: it answers within moments or steps
        // down. The log behind it has no more room than this path (after a 2 s stall at 8,500
        // consumers, heartbeats sent to the log put ~8,000 writes on the next leader at once).
        return CompletableFuture.completedFuture(finish(notYet()));
      }
      return CompletableFuture.completedFuture(finish(needsWrite("this node is not the leader")));
    }
    long lagMs = pending.oldestAgeMs();
    if (lagMs > Shedding.SHED_AGE_MS) {
      return CompletableFuture.completedFuture(finish(shed(hb, principal, lagMs)));
    }
    CompletableFuture<Boolean> ready = pending.applied(Shedding.SHED_AGE_MS);
    if (ready.isDone() && ready.join()) {
      return CompletableFuture.completedFuture(finish(answerNow(hb, principal, term)));
    }
    waited.incrementAndGet();
    long since = System.nanoTime(); // only here: most heartbeats are answered at once, untimed
    Command.BodyCase behind = pending.oldestKind();
    CompletableFuture<QueryResult> answer = new CompletableFuture<>();
    ready.whenComplete((ok, e) -> answerLater(new Waiting(hb, principal, term, Boolean.TRUE.equals(ok), since,
        behind, answer)));
    return answer;
  }

  /** Every command admitted before the query is applied: the answer from the applied state. */
  private Result answerNow(Heartbeat hb, String principal, long term) {
    if (leadership.freshTerm() != term) {
      return notLeadingNow(hb, principal);
    }
    return renewals.locked(() -> {
      long at = stamps.peekMs();
      return applied.read(c -> answerUnderLocks(c, hb, principal, at));
    });
  }

  /**
   * The term a heartbeat waited in is over, or its leader not fresh any more. Still the Raft leader
   * (not heard from a majority lately; or leading a newer term): a retry, as {@link #answer} gives,
   * and its member renewed if live. Answered NEEDS_WRITE here, the node's own quiet service saw a
   * Raft leader and could name no other, so the consumer sent it to the log: after a 2 s stall at
   * 8,500 consumers, 1,265 such answers and every session lost (docs/BENCHMARKS.md). Else
   * NEEDS_WRITE, which the quiet service sends on to the leader it learns of.
   */
  private Result notLeadingNow(Heartbeat hb, String principal) {
    if (!leadership.raftLeader()) {
      return needsWrite("this node stopped leading");
    }
    if (leadership.leads()) {
      renewIfLive(hb, principal);
    }
    return notYet();
  }

  /** Holding the renewals' lock and the apply lock, at leader time {@code at}. */
  private Result answerUnderLocks(Coordinator c, Heartbeat hb, String principal, long at) {
    Result answer = c.quietHeartbeat(hb, principal, at);
    if (answer.getCode() == Code.OK) {
      renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at,
          answer.getHeartbeat().getSessionTimeoutMs());
    } else if (answer.getCode() == Code.NEEDS_WRITE && c.sessionLive(hb, at)) {
      // Life, as a shed heartbeat is: its replicated copy may wait long behind a busy write path.
      renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at, 0);
      needsWriteRenewed.incrementAndGet();
    }
    return answer;
  }

  private void answerLater(Waiting w) {
    waiting.add(w);
    if (answering.compareAndSet(false, true)) {
      try {
        afterWait.execute(this::answerWaiting);
      } catch (RejectedExecutionException stopping) {
        answering.set(false);
        for (Waiting x; (x = waiting.poll()) != null; ) {
          x.answer().complete(finish(needsWrite("this node is stopping")));
        }
      }
    }
  }

  /** Answers what waits, a batch at a time, until nothing does. */
  private void answerWaiting() {
    List<Waiting> batch = new ArrayList<>(ANSWER_BATCH);
    while (true) {
      for (Waiting w; batch.size() < ANSWER_BATCH && (w = waiting.poll()) != null; ) {
        batch.add(w);
      }
      if (batch.isEmpty()) {
        answering.set(false);
        if (waiting.isEmpty() || !answering.compareAndSet(false, true)) {
          return; // nothing left, or a newer task took over
        }
        continue;
      }
      List<Result> results = answerAll(batch);
      long now = System.nanoTime();
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).answer().complete(finish(results.get(i)));
        noteWait(now - batch.get(i).sinceNanos(), batch.get(i).behind());
      }
      batch.clear();
    }
  }

  /** One pass under the locks: each as {@link #answerNow} would, or shed if its wait timed out. */
  private List<Result> answerAll(List<Waiting> batch) {
    long term = leadership.freshTerm();
    long lagMs = Math.max(Shedding.SHED_AGE_MS, pending.oldestAgeMs());
    return renewals.locked(() -> {
      long at = stamps.peekMs();
      return applied.read(c -> {
        List<Result> out = new ArrayList<>(batch.size());
        for (Waiting w : batch) {
          if (!w.applied()) {
            renewIfCurrentUnderLocks(c, w.hb(), w.principal(), at);
            out.add(retryLater(lagMs));
          } else if (term != w.term()) {
            out.add(notLeadingNow(w.hb(), w.principal())); // the locks are reentrant
          } else {
            out.add(answerUnderLocks(c, w.hb(), w.principal(), at));
          }
        }
        return out;
      });
    });
  }

  /**
   * Slow answers have one cause the client cannot see: a quiet heartbeat waits for every write the
   * leader admitted before it (R2), so one slow write delays every heartbeat that arrived
   * meanwhile. At most one line every 5 s says how many, how long, and behind what: the kind of the
   * oldest write pending when each began to wait (a tick, a replicated heartbeat, an admin command).
   */
  private void noteWait(long nanos, Command.BodyCase behind) {
    if (nanos < SLOW_WAIT_NANOS) {
      return;
    }
    slowWaits.incrementAndGet();
    longestWaitNanos.accumulate(nanos);
    events.quietHeartbeatWaitedLong(behind);
    slowBehind.computeIfAbsent(behind == null ? "unknown" : behind.name(), k -> new LongAdder()).increment();
    if (due(lastSlowWaitNoteNanos, SLOW_WAIT_NOTE_EVERY_NANOS)) {
      long total = slowWaits.get();
      LOG.info("quiet heartbeats answered {} ms or more after they arrived, waiting for this leader's earlier writes"
              + " to be applied: {} since the last such line (longest {} ms; behind the oldest write pending: {}), {} in all",
          SLOW_WAIT_NANOS / 1_000_000, total - slowWaitsNoted.getAndSet(total),
          longestWaitNanos.getThenReset() / 1_000_000, drainSlowBehind(), total);
    }
  }

  /** "TICK 1900, HEARTBEAT 68": the slow waits by what they waited behind since the last note, most first. */
  private String drainSlowBehind() {
    List<Map.Entry<String, Long>> counts = new ArrayList<>();
    for (String kind : List.copyOf(slowBehind.keySet())) {
      LongAdder n = slowBehind.remove(kind);
      if (n != null) {
        counts.add(Map.entry(kind, n.sum()));
      }
    }
    counts.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, Long> c : counts) {
      out.append(out.length() == 0 ? "" : ", ").append(c.getKey()).append(' ').append(c.getValue());
    }
    return out.toString();
  }

  /** Whether a note kept at most every {@code everyNanos} is due now; true for one caller only. */
  private static boolean due(AtomicLong lastNanos, long everyNanos) {
    long now = System.nanoTime();
    long last = lastNanos.get();
    return now - last >= everyNanos && lastNanos.compareAndSet(last, now);
  }

  /** Quiet heartbeats answered {@link #SLOW_WAIT_NANOS} or more after they arrived (tests). */
  long slowWaits() {
    return slowWaits.get();
  }

  /** Saturated: RETRY_LATER with a retry-after, and a renewal if the session is current. */
  private Result shed(Heartbeat hb, String principal, long lagMs) {
    renewIfCurrent(hb, principal);
    return retryLater(lagMs);
  }

  private static Result retryLater(long lagMs) {
    return Result.newBuilder().setCode(Code.RETRY_LATER).setMessage("retry after " + Shedding.retryAfterMs(lagMs)
        + " ms: this leader's oldest write waiting to be applied was admitted " + lagMs + " ms ago").build();
  }

  /** A Raft leader that cannot answer yet: ask again soon (no renewal of its own: see the caller). */
  private static Result notYet() {
    return Result.newBuilder().setCode(Code.RETRY_LATER).setMessage("retry after " + NOT_YET_RETRY_MS
        + " ms: this node leads but is not ready or has not heard from a majority lately").build();
  }

  private QueryResult finish(Result r) {
    answered.incrementAndGet();
    if (r.getCode() == Code.OK) {
      answeredOk.incrementAndGet();
    }
    events.quietHeartbeat(r.getCode());
    QueryResult.Builder out = QueryResult.newBuilder().setCode(r.getCode()).setMessage(r.getMessage());
    if (r.hasHeartbeat()) {
      out.setHeartbeat(r.getHeartbeat());
    }
    return out.build();
  }

  private static Result needsWrite(String why) {
    return Result.newBuilder().setCode(Code.NEEDS_WRITE).setMessage("send it as a replicated heartbeat: " + why)
        .build();
  }

  /**
   * A heartbeat shed before the log still proves its member alive: a renewal, if its session is the
   * member's in the applied state. Safe for R2: the client got no answer, so its own deadline does
   * not move; only its expiry waits (and it need not rejoin).
   */
  void renewShed(CommandAdmission.Admitted admitted) {
    renewIfCurrent(admitted.command().getHeartbeat(), admitted.stamp().principal());
  }

  private void renewIfCurrent(Heartbeat hb, String principal) {
    if (hb.getSessionToken().isEmpty()) {
      return;
    }
    renewals.locked(() -> {
      long at = stamps.peekMs();
      return applied.read(c -> {
        renewIfCurrentUnderLocks(c, hb, principal, at);
        return null;
      });
    });
  }

  private void renewIfCurrentUnderLocks(Coordinator c, Heartbeat hb, String principal, long at) {
    if (!hb.getSessionToken().isEmpty() && c.watch(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(),
        principal).getCode() == Code.OK) {
      renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at, 0);
      shedRenewed.incrementAndGet();
    }
  }

  /**
   * A heartbeat this leader cannot answer because it is not fresh (RETRY_LATER): as one answered
   * NEEDS_WRITE, it renews its member if it may use the consumer id and its session is live (R7).
   */
  private void renewIfLive(Heartbeat hb, String principal) {
    if (hb.getSessionToken().isEmpty()) {
      return;
    }
    renewals.locked(() -> {
      long at = stamps.peekMs();
      return applied.read(c -> {
        if (c.watch(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), principal).getCode() == Code.OK
            && c.sessionLive(hb, at)) {
          renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at, 0);
          noteUnfresh(unfreshRenewed.incrementAndGet());
        }
        return null;
      });
    });
  }

  /** At most one line per 10 s: a leader that is not fresh under load is saturated, and says so. */
  private void noteUnfresh(long total) {
    if (due(lastUnfreshNoteNanos, UNFRESH_NOTE_EVERY_NANOS)) {
      LOG.info("heartbeats asked to retry because this leader heard from no majority lately: {} in all; their"
          + " live members were renewed (a saturated leader, or slow followers)", total);
    }
  }

  /** The ticker's next tick: pending renewals in about {@code budgetBytes}, and the expiry cutoff. */
  Command nextTick(int budgetBytes) {
    return Command.newBuilder().setTick(renewals.drain(stamps::peekMs, Protocol.MAX_RENEWALS_PER_TICK, budgetBytes))
        .build();
  }

  /** A tick that was not applied: its renewals wait for the next one. */
  void restore(Command tick) {
    renewals.restore(tick.getTick());
  }

  /** This node stopped leading (or starts a term): the new term's first entry pushes every deadline (R6). */
  void clear() {
    renewals.clear();
  }

  int pending() {
    return renewals.size();
  }

  /** Tests: runs {@code r} holding the renewals. */
  void holdingRenewals(Runnable r) {
    renewals.locked(() -> {
      r.run();
      return null;
    });
  }

  /** Whether another thread holds the renewals now (a hint for a thread that must not wait). */
  boolean renewalsBusy() {
    return renewals.busy();
  }

  long answered() {
    return answered.get();
  }

  long answeredOk() {
    return answeredOk.get();
  }

  long shedRenewed() {
    return shedRenewed.get();
  }

  /** Quiet heartbeats answered NEEDS_WRITE that renewed their live member all the same. */
  long needsWriteRenewed() {
    return needsWriteRenewed.get();
  }

  /** Heartbeats a leader that had not heard from a majority lately asked to retry, renewing their member. */
  long unfreshRenewed() {
    return unfreshRenewed.get();
  }

  /** Quiet heartbeats that waited for this leader's writes to be applied before their answer. */
  long waited() {
    return waited.get();
  }
}
