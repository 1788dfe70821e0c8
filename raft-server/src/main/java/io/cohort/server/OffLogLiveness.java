package io.cohort.server;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Protocol;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.apache.ratis.server.RaftServer;

/**
 * Heartbeats off the log on the leader (step 11): answers a quiet heartbeat from the applied state
 * and keeps the liveness it proves in {@link Renewals} for the ticker's next {@code Tick}; a shed
 * heartbeat of the current session leaves a renewal too.
 *
 * <p>A quiet heartbeat is answered only when this node is the leader, ready, leading its term's
 * clock, heard from a majority within the election timeout's minimum ({@link LeaderFreshness}: a
 * follower votes for another leader only after that long without hearing from this one), and
 * every command it stamped is applied (its writes in flight are counted before they are stamped),
 * so the answer reflects everything stamped before the client sent it. Anything else: NEEDS_WRITE,
 * and the client sends the replicated heartbeat at once. Never a ReadIndex round: the client sends
 * it as a non-linearizable read, which Ratis gives to the leader's {@code query} directly.
 */
final class OffLogLiveness {
  /** Runs a read of the applied state under the state machine's apply lock. */
  interface AppliedState {
    <T> T read(Function<Coordinator, T> read);
  }

  private final LeaderStamps stamps;
  private final AtomicLong writesInFlight;
  private final NodeEvents events;
  private final AppliedState applied;
  private final Renewals renewals = new Renewals();
  private volatile BooleanSupplier leaderFresh = () -> false;
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong answeredOk = new AtomicLong();
  private final AtomicLong shedRenewed = new AtomicLong();

  OffLogLiveness(LeaderStamps stamps, AtomicLong writesInFlight, NodeEvents events, AppliedState applied) {
    this.stamps = stamps;
    this.writesInFlight = writesInFlight;
    this.events = events;
    this.applied = applied;
  }

  void judgeLeadershipBy(BooleanSupplier fresh) {
    leaderFresh = fresh;
  }

  QueryResult answer(Heartbeat hb, String principal, RaftServer.Division d) {
    long term = d == null ? -1 : d.getInfo().getCurrentTerm();
    Result r;
    if (d == null || !d.getInfo().isLeader() || !d.getInfo().isLeaderReady() || !leaderFresh.getAsBoolean()
        || !stamps.leads(term)) {
      r = needsWrite("this node is not a leader that heard from a majority lately");
    } else {
      r = renewals.locked(() -> {
        long at = stamps.peekMs();
        Result answer = applied.read(c -> writesInFlight.get() > 0
            ? needsWrite("writes this leader stamped are not applied yet") : c.quietHeartbeat(hb, principal, at));
        if (answer.getCode() == Code.OK) {
          if (!d.getInfo().isLeader() || d.getInfo().getCurrentTerm() != term) {
            return needsWrite("this node stopped leading");
          }
          renewals.record(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(), at,
              answer.getHeartbeat().getSessionTimeoutMs());
        }
        return answer;
      });
    }
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
    Heartbeat hb = admitted.command().getHeartbeat();
    if (hb.getSessionToken().isEmpty()) {
      return;
    }
    renewals.locked(() -> {
      long at = stamps.peekMs();
      boolean current = applied.read(c -> c.watch(hb.getGroup(), hb.getConsumerId(), hb.getSessionToken(),
          admitted.stamp().principal()).getCode() == Code.OK);
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
}
