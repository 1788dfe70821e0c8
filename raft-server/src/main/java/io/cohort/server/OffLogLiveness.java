package io.cohort.server;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Protocol;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

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
 * sent it (R2). Not the leader: NEEDS_WRITE, and the client sends the replicated heartbeat. Writes
 * not applied within {@link Shedding#SHED_AGE_MS}: RETRY_LATER (the leader is saturated), and the
 * member is renewed. Never a ReadIndex round: the client sends it on its stream of quiet
 * heartbeats ({@link WatchService}); one sent as a Ratis read (the query {@code quiet_heartbeat})
 * gets the same answer, for clients that still send it that way.
 */
final class OffLogLiveness {
  /** Runs a read of the applied state under the state machine's apply lock. */
  interface AppliedState {
    <T> T read(Function<Coordinator, T> read);
  }

  /** Who may answer: the term this node leads, ready and heard from a majority lately, else -1. */
  interface Leadership {
    long freshTerm();
  }

  private final LeaderStamps stamps;
  private final PendingWrites pending;
  private final NodeEvents events;
  private final AppliedState applied;
  private final Executor afterWait;
  private final Renewals renewals = new Renewals();
  private volatile Leadership leadership = () -> -1;
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong answeredOk = new AtomicLong();
  private final AtomicLong waited = new AtomicLong();
  private final AtomicLong shedRenewed = new AtomicLong();
  private final AtomicLong needsWriteRenewed = new AtomicLong();

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
      return CompletableFuture.completedFuture(
          finish(needsWrite("this node is not a leader that heard from a majority lately")));
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
    return ready.thenApplyAsync(ok -> finish(ok ? answerNow(hb, principal, term)
        : shed(hb, principal, Math.max(Shedding.SHED_AGE_MS, pending.oldestAgeMs()))), afterWait);
  }

  /** Every command admitted before the query is applied: the answer from the applied state. */
  private Result answerNow(Heartbeat hb, String principal, long term) {
    if (leadership.freshTerm() != term) {
      return needsWrite("this node stopped leading");
    }
    return renewals.locked(() -> {
      long at = stamps.peekMs();
      Result answer = applied.read(c -> c.quietHeartbeat(hb, principal, at));
      if (answer.getCode() == Code.OK) {
        renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at,
            answer.getHeartbeat().getSessionTimeoutMs());
      } else if (answer.getCode() == Code.NEEDS_WRITE && applied.read(c -> c.sessionLive(hb, at))) {
        // Life, as a shed heartbeat is: its replicated copy may wait long behind a busy write path.
        renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at, 0);
        needsWriteRenewed.incrementAndGet();
      }
      return answer;
    });
  }

  /** Saturated: RETRY_LATER with a retry-after, and a renewal if the session is current. */
  private Result shed(Heartbeat hb, String principal, long lagMs) {
    renewIfCurrent(hb, principal);
    return Result.newBuilder().setCode(Code.RETRY_LATER).setMessage("retry after " + Shedding.retryAfterMs(lagMs)
        + " ms: this leader's oldest write waiting to be applied was admitted " + lagMs + " ms ago").build();
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
      boolean current = applied.read(c -> c.watch(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(),
          principal).getCode() == Code.OK);
      if (current) {
        renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at, 0);
        shedRenewed.incrementAndGet();
      }
      return null;
    });
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

  /** Quiet heartbeats that waited for this leader's writes to be applied before their answer. */
  long waited() {
    return waited.get();
  }
}
