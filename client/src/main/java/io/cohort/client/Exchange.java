package io.cohort.client;

import com.google.protobuf.ByteString;
import io.cohort.client.ConsumerState.Action;
import io.cohort.client.ConsumerState.Flush;
import io.cohort.client.GroupConsumer.Status;
import io.cohort.statemachine.AssignmentView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer's requests and their answers, one at a time: builds each heartbeat, commit or leave
 * from {@link ConsumerState} under the {@link CommandBudget}, sends it, and digests the answer.
 * A refusal is never sent again as it was: too large (LIMIT_EXCEEDED, INVALID_ARGUMENT) shrinks
 * the budget or drops the one checkpoint to blame; FENCED, PERMISSION_DENIED and a refused
 * membership wind the consumer down. On the consumer's loop thread.
 */
final class Exchange {
  private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);

  private final ConsumerLoop<?> loop;
  private final ConsumerTransport transport;
  private final ConsumerConfig config;
  private final String logPrefix;
  private final ConsumerState state;
  private final Pacer pacer;
  private final Readers<?> readers;
  private final Effects effects;
  private final CommandBudget budget = new CommandBudget();
  private boolean inFlight;
  /** When the call in flight was sent, and the last keep-alive while it waits (step 11). */
  private long inFlightSinceMs;
  private long lastKeepAliveMs;
  /**
   * The session a keep-alive's answer refused for good (expired, replaced, group gone): no more
   * keep-alives for it. Under a write backlog an expired member waits for its replicated heartbeat's
   * refusal for long; its keep-alives cost the leader as much as live ones (bench heartbeat, a
   * join storm of 10,100 consumers: 3,000 a second answered UNKNOWN_MEMBER). Written on a gRPC thread.
   */
  private volatile ByteString keepAliveRefused = ByteString.EMPTY;
  /** The last heartbeat's answer, null after a failure: whether the next one may be quiet (step 11). */
  private HeartbeatResult lastAnswer;
  private volatile long quietSent; // written on the loop thread only
  private volatile long quietOk;
  private volatile boolean limitsKnown;
  private volatile int refusedForSize;

  Exchange(ConsumerLoop<?> loop, ConsumerTransport transport, ConsumerConfig config, String logPrefix,
      ConsumerState state, Pacer pacer, Readers<?> readers, Effects effects) {
    this.loop = loop;
    this.transport = transport;
    this.config = config;
    this.logPrefix = logPrefix;
    this.state = state;
    this.pacer = pacer;
    this.readers = readers;
    this.effects = effects;
  }

  boolean inFlight() {
    return inFlight;
  }

  /** The cluster told its limits (tests). */
  boolean limitsKnown() {
    return limitsKnown;
  }

  /** Commands the cluster refused as too large so far (tests). */
  int refusedForSize() {
    return refusedForSize;
  }

  /** Asks the cluster for its limits once; the defaults hold meanwhile (and if it cannot say). */
  void fetchLimits() {
    try {
      transport.limits().whenComplete((limits, e) -> loop.post(() -> {
        if (e == null) {
          budget.adopt(limits);
          limitsKnown = true;
        } else {
          LOG.debug("{} cluster limits unknown, using the defaults: {}", logPrefix, e.toString());
        }
      }));
    } catch (RuntimeException e) {
      LOG.debug("{} cluster limits unknown, using the defaults: {}", logPrefix, e.toString());
    }
  }

  // ------------------------------------------------------------------ sending

  void sendHeartbeat() {
    sendHeartbeat(false);
  }

  /**
   * @param mayBeQuiet no release to report, no rejoin due (a watch that fired may be answered
   *     quietly): if it would change nothing, it goes as a quiet heartbeat the leader answers off
   *     the log (step 11)
   */
  void sendHeartbeat(boolean mayBeQuiet) {
    Flush f = state.flush(true, budget);
    long sentAt = pacer.now();
    pacer.heartbeatSent(state.nextHeartbeatMs());
    Heartbeat hb = state.heartbeat(f);
    if (mayBeQuiet && quietFits(hb)) {
      CompletableFuture<HeartbeatResult> quiet;
      try {
        quiet = transport.quietHeartbeat(hb, state.sessionTimeoutMs());
      } catch (RuntimeException e) {
        quiet = CompletableFuture.failedFuture(e); // falls back to the log below
      }
      if (quiet != null) {
        CompletableFuture<HeartbeatResult> call = quiet;
        quietSent++;
        send(() -> call, (r, e) -> onQuietHeartbeat(f, hb, sentAt, r, e));
        return;
      }
    }
    send(() -> transport.heartbeat(hb), (r, e) -> onHeartbeat(f, sentAt, r, e));
  }

  /**
   * Whether the heartbeat would change nothing on the leader as far as this consumer knows: same
   * session, no commits or errors, exactly the grants of the last answer, which asked for no
   * release. The leader checks again. A member that only waits for a grant (a handoff pending, the
   * interval shortened) polls quietly too, and the poll that finds the grant ready is told it off the
   * log; polling through the log cost a write every handoff interval per waiting member.
   */
  private boolean quietFits(Heartbeat hb) {
    HeartbeatResult last = lastAnswer;
    if (!config.quietHeartbeats() || last == null || hb.getSessionToken().isEmpty()
        || !hb.getSessionToken().equals(last.getSessionToken()) || hb.getCommitsCount() > 0
        || hb.getErrorsCount() > 0 || last.getReleaseCount() > 0
        || hb.getHeldCount() != last.getGrantsCount()) {
      return false;
    }
    Set<String> granted = new HashSet<>();
    for (Grant g : last.getGrantsList()) {
      granted.add(g.getPartition() + "/" + g.getTopic());
    }
    for (PartitionRef ref : hb.getHeldList()) {
      if (!granted.remove(ref.getPartition() + "/" + ref.getTopic())) {
        return false;
      }
    }
    return true;
  }

  /**
   * An OK answer confirms the session exactly as a replicated heartbeat's (R2: from this send
   * time). A session refusal, or a saturated leader's RETRY_LATER (back off, keep the session), is
   * handled as the heartbeat's would be; anything else (NEEDS_WRITE, no fresh leader, a failed
   * call) sends the replicated heartbeat at once.
   */
  private void onQuietHeartbeat(Flush f, Heartbeat hb, long sentAt, HeartbeatResult r, Throwable e) {
    if (e == null) {
      quietOk++;
      onHeartbeat(f, sentAt, r, null);
      return;
    }
    CohortException ce = Failures.map(e, "quiet heartbeat");
    if (ce instanceof CohortRejectedException rej && switch (rej.code()) {
      case FENCED, UNKNOWN_MEMBER, NOT_FOUND, PERMISSION_DENIED, RETRY_LATER -> true;
      default -> false;
    }) {
      onHeartbeat(f, sentAt, null, ce);
      return;
    }
    LOG.debug("{} quiet heartbeat not answered off the log, sending it through the log: {}", logPrefix,
        ce.getMessage());
    long again = pacer.now();
    send(() -> transport.heartbeat(hb), (r2, e2) -> onHeartbeat(f, again, r2, e2));
  }

  /**
   * When the next keep-alive is due while a call has been in flight for {@code periodMs}
   * (Long.MAX_VALUE: none). A replicated heartbeat or commit can queue behind other writes for
   * longer than the session; the leader counts a quiet heartbeat of a live session as life even
   * when the log must carry it (NEEDS_WRITE), so the session does not expire while it waits.
   */
  long keepAliveDueMs(long periodMs) {
    if (!inFlight || !config.quietHeartbeats() || state.session().isEmpty() || periodMs <= 0
        || state.session().equals(keepAliveRefused)) {
      return Long.MAX_VALUE;
    }
    return Math.max(inFlightSinceMs, lastKeepAliveMs) + periodMs;
  }

  /**
   * Sends a keep-alive on the quiet stream. Its answer confirms nothing this consumer may act on
   * (R2: its readers' deadline moves only with the call in flight); a refusal of the session only
   * stops the keep-alives for it (the call in flight will be refused too, and says what to do).
   */
  void sendKeepAlive() {
    lastKeepAliveMs = pacer.now();
    Heartbeat alive = state.keepAlive();
    try {
      CompletableFuture<HeartbeatResult> sent = transport.quietHeartbeat(alive, state.sessionTimeoutMs());
      if (sent != null) {
        sent.whenComplete((r, e) -> {
          if (e != null) {
            LOG.debug("{} keep-alive: {}", logPrefix, e.toString());
            if (Failures.map(e, "keep-alive") instanceof CohortRejectedException rej && switch (rej.code()) {
              case UNKNOWN_MEMBER, FENCED, NOT_FOUND, PERMISSION_DENIED -> true;
              default -> false;
            }) {
              keepAliveRefused = alive.getSessionToken();
            }
          }
        });
      }
    } catch (RuntimeException e) {
      LOG.debug("{} keep-alive not sent: {}", logPrefix, e.toString());
    }
  }

  /** Quiet heartbeats sent, and answered OK off the log (tests). */
  long quietSent() {
    return quietSent;
  }

  long quietOk() {
    return quietOk;
  }

  void sendCommit() {
    Flush f = state.flush(false, budget);
    long sentAt = pacer.now();
    send(() -> transport.commit(state.commit(f)), (r, e) -> onCommit(f, sentAt, r, e));
  }

  /** Every reader stopped: the final checkpoints (in chunks under the budget), the last with the leave. */
  void sendLeave() {
    Flush f = state.flush(false, budget);
    boolean last = f.leftOver() == 0;
    if (last) {
      LOG.info("{} leaving{} with {} final checkpoints", logPrefix,
          state.fenced() ? " the replaced session" : "", f.entries().size());
    }
    send(() -> (last ? transport.leave(state.leave(f)) : transport.commit(state.commit(f)))
        .orTimeout(config.leaveTimeoutMs(), TimeUnit.MILLISECONDS), (r, e) -> onLeave(f, last, r, e));
  }

  private interface Call<T> {
    CompletableFuture<T> start();
  }

  private interface Answer<T> {
    void on(T result, Throwable error);
  }

  private <T> void send(Call<T> call, Answer<T> answer) {
    if (!inFlight) {
      inFlightSinceMs = pacer.now();
    }
    inFlight = true;
    CompletableFuture<T> f;
    try {
      f = call.start();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((r, e) -> loop.post(() -> {
      inFlight = false;
      if (!loop.done()) {
        answer.on(r, e);
      }
    }));
  }

  // ------------------------------------------------------------------ answers

  private void onHeartbeat(Flush f, long sentAt, HeartbeatResult r, Throwable e) {
    if (e == null || !(Failures.map(e, "heartbeat") instanceof CohortRejectedException rej
        && rej.code() == Code.RETRY_LATER)) {
      // A retry-after (a saturated leader, or one not ready yet) changed nothing: the next heartbeat
      // may still go quiet, and the leader says NEEDS_WRITE if it may not.
      lastAnswer = e == null ? r : null;
    }
    if (e != null) {
      onFailure(f, true, Failures.map(e, "heartbeat"));
      loop.pump();
      return;
    }
    long sto = r.getSessionTimeoutMs();
    pacer.heartbeatOk(sentAt, r.getNextHeartbeatMs(), r.getGroupHeartbeatMs());
    committed(f, sentAt);
    String problem = config.sessionTimeoutProblem(sto);
    if (problem != null) {
      LOG.error("{} cannot run: {}", logPrefix, problem);
      loop.windDown(Status.FAILED, new IllegalStateException(problem)); // before any reader starts
    }
    // An answer older than the session's safe span may describe a session the coordinator has
    // expired since: it may not start readers (R2); the next heartbeat goes at once.
    boolean fresh = pacer.now() < pacer.fenceAtMs(sto);
    if (!fresh) {
      LOG.warn("{} heartbeat answered {} ms after it was sent (session {} ms): no reader starts on it",
          logPrefix, pacer.now() - sentAt, sto);
    }
    List<Action> actions = state.onHeartbeat(f, r, fresh);
    loop.member(state.session(), sto);
    loop.heard(state.session(), AssignmentView.of(r), r.getNextHeartbeatMs());
    if (f.session().isEmpty()) {
      LOG.info("{} joined, {} grants", logPrefix, r.getGrantsCount());
    }
    readers.fenceAt(pacer.fenceAtMs(sto));
    for (Action a : actions) {
      if (a instanceof Action.Stop s && s.reason() == RevokeReason.RELEASED) {
        // the release timeout (default: the session timeout) runs from the request
        readers.releaseBy(s.grant().id(), sentAt + sto - config.marginFor(sto));
      }
    }
    effects.apply(actions);
    loop.pump();
  }

  private void committed(Flush f, long sentAt) {
    if (!f.entries().isEmpty()) {
      config.metrics().committed(f.entries().size(), (pacer.now() - sentAt) * 1_000_000);
    }
  }

  private void onCommit(Flush f, long sentAt, CommitResult r, Throwable e) {
    if (e == null) {
      pacer.commitOk();
      committed(f, sentAt);
      effects.apply(state.onCommit(f, r.getCodesList()));
    } else {
      onFailure(f, false, Failures.map(e, "commit"));
    }
    loop.pump();
  }

  private void onLeave(Flush f, boolean last, CommitResult r, Throwable e) {
    if (e == null) {
      effects.apply(state.onCommit(f, r.getCodesList()));
      if (last) {
        loop.finish();
      } else {
        loop.pump(); // the next chunk
      }
      return;
    }
    CohortException ce = Failures.map(e, last ? "leave" : "final commit");
    if (ce instanceof CohortRejectedException rej && !f.entries().isEmpty()
        && (rej.code() == Code.LIMIT_EXCEEDED || rej.code() == Code.INVALID_ARGUMENT)) {
      refusedForItsEntries(f, rej);
      loop.pump(); // smaller, or without the dropped entry
      return;
    }
    effects.apply(state.onFailed(f, ce));
    LOG.warn("{} leave failed (the session will expire instead): {}", logPrefix, ce.getMessage());
    loop.finish();
  }

  private void onFailure(Flush f, boolean heartbeat, CohortException ce) {
    String what = heartbeat ? "heartbeat" : "commit";
    if (!(ce instanceof CohortRejectedException rej)) {
      config.metrics().failed(null, "request_failed");
      effects.apply(state.onFailed(f, ce));
      long delay = pacer.failed();
      LOG.warn("{} {} failed, retrying in {} ms: {}", logPrefix, what, delay, ce.getMessage());
      return;
    }
    Code code = rej.code();
    switch (code) {
      case LIMIT_EXCEEDED, INVALID_ARGUMENT -> {
        if (!f.entries().isEmpty()) {
          refusedForItsEntries(f, rej);
          state.resend(heartbeat);
        } else {
          LOG.error("{} {} refused: {}", logPrefix, what, rej.getMessage());
          loop.windDown(Status.FAILED, rej); // the membership itself is refused: retrying cannot help
        }
      }
      case PERMISSION_DENIED -> {
        LOG.error("{} {} refused: {}", logPrefix, what, rej.getMessage());
        loop.windDown(Status.FAILED, rej);
      }
      case RETRY_LATER -> {
        // shed by an overloaded leader, or no leader found while leadership changes hands: back off
        // with jitter; the session stays (no rejoin)
        boolean noLeader = rej.foundNoLeader();
        config.metrics().failed(null, noLeader ? "no_leader" : "shed");
        effects.apply(state.onFailed(f, rej));
        long delay = pacer.retryAfter(Jitter.spread(rej.retryAfterMs(config.retryMs())), state.sessionTimeoutMs());
        LOG.debug("{} {} {}, retrying in {} ms: {}", logPrefix, what, noLeader ? "found no leader" : "shed by the leader",
            delay, rej.getMessage());
      }
      case FENCED -> {
        config.metrics().failed(null, "fenced");
        LOG.warn("{} fenced: another process joined with this consumer id; stopping, then leaving", logPrefix);
        effects.apply(state.onRejected(code));
      }
      case UNKNOWN_MEMBER, NOT_FOUND -> {
        LOG.warn("{} {}: stopping all partitions, joining again", logPrefix,
            code == Code.NOT_FOUND ? "group not found" : "session expired or left");
        effects.apply(state.onRejected(code));
        readers.clearPauses();
        loop.notMember();
        if (code == Code.NOT_FOUND) {
          pacer.failed();
        }
      }
      default -> {
        effects.apply(state.onFailed(f, rej));
        long delay = pacer.failed();
        LOG.warn("{} {} refused, retrying in {} ms: {}", logPrefix, what, delay, rej.getMessage());
      }
    }
  }

  /**
   * The command was refused as a whole because of its checkpoints (too many, too large): the next
   * commands carry at most half as many, and a single one is dropped (R9); never the same command
   * again.
   */
  private void refusedForItsEntries(Flush f, CohortRejectedException rej) {
    refusedForSize++;
    if (budget.shrinkAfterRefusal(f.entries().size(), f.bytes())) {
      LOG.warn("{} a command with {} checkpoints ({} bytes) was refused ({}); from now on at most {} entries"
          + " and {} bytes per command", logPrefix, f.entries().size(), f.bytes(), rej.getMessage(),
          budget.maxEntries(), budget.maxBytes());
    } else {
      effects.apply(state.dropEntries(f, rej.code()));
    }
  }
}
