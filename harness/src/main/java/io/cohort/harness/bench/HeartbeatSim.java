package io.cohort.harness.bench;

import io.cohort.client.CohortClient;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.ConsumerConfig;
import io.cohort.client.Jitter;
import io.cohort.client.WatchProtocol;
import io.cohort.statemachine.AssignmentView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Simulated consumers: each keeps its session and held list and heartbeats at the interval the
 * coordinator suggests (counted from when it sent the previous one), through a few shared {@link
 * CohortClient}s. A granted partition is held at once, a partition to release is dropped at once
 * (no data to flush). With {@code quiet} a heartbeat that would change nothing goes as the real
 * consumer sends it (step 11): on the client's stream of quiet heartbeats, answered by the leader
 * off the log, and on NEEDS_WRITE or any other refusal but a session's or RETRY_LATER, the same
 * heartbeat through the log at once. With {@code watches} each keeps one watch on the leader as the
 * client's Watcher does: a change makes it heartbeat at once, and while the watch is placed a
 * handoff is polled at the group's interval, not the handoff's (a release asked still goes at the
 * handoff interval: the sim's stand-in for the client's "at once when its readers stopped").
 */
final class HeartbeatSim {
  /** As the client's Exchange: an answer with a shorter interval means a handoff is pending. */
  private static final long HANDOFF_INTERVAL_MS = 100;

  private final List<CohortClient> clients;
  private final boolean quiet;
  /** A member that only waits for a grant polls quietly, as the client's Exchange does since 97c9ae5. */
  private final boolean quietWhileWaiting;
  /** Each member keeps a watch on the leader as the client's Watcher does (R12), and polls a handoff as its Pacer. */
  private final boolean watches;
  private final ScheduledExecutorService scheduler;
  private final List<Sim> sims = new ArrayList<>();
  private volatile boolean stopped;
  private volatile Latencies recording;
  /**
   * While recording: answers slower than {@link HeartbeatStep#P99_LIMIT_MS}, per second of the
   * window (where a stall fell).
   */
  private volatile AtomicIntegerArray slowPerSecond = new AtomicIntegerArray(0);
  private volatile long recordingSinceNs;
  /** When the latest answer slower than the p99 limit came, whatever it said (0: none yet): a backlog draining. */
  private final AtomicLong lastSlowAnswerNs = new AtomicLong();
  /** Heartbeats answered OK (quiet or replicated), latency from the first send. */
  final AtomicLong completed = new AtomicLong();
  /** ... of which answered off the log. */
  final AtomicLong quietOk = new AtomicLong();
  /** Quiet heartbeats not answered off the log (NEEDS_WRITE, no fresh leader, ...): sent through the log at once. */
  final AtomicLong fallbacks = new AtomicLong();
  /** Why quiet heartbeats fell back, while a phase records: the refusal's code and reason, or the failure's class. */
  private final Map<String, LongAdder> fallbackReasons = new ConcurrentHashMap<>();
  final AtomicLong errors = new AtomicLong();
  /** Session refusals (UNKNOWN_MEMBER: expired; FENCED: replaced): the consumer joins again. */
  final AtomicLong rejoins = new AtomicLong();
  /** ... of which UNKNOWN_MEMBER: the session had expired. */
  final AtomicLong expired = new AtomicLong();
  /** Heartbeats an overloaded leader shed (RETRY_LATER, step 11): retried after its retry-after, session kept. */
  final AtomicLong shed = new AtomicLong();
  /** Keep-alives sent on the quiet stream while a replicated heartbeat waited (as the client does, step 11). */
  final AtomicLong keepAlives = new AtomicLong();
  /** RETRY_LATER because no peer asked led (leadership changing hands), counted in shed too. */
  final AtomicLong noLeaderRetries = new AtomicLong();
  /** Watches that said "heartbeat now", and watches that failed (the member polls a handoff again). */
  final AtomicLong watchChanges = new AtomicLong();
  final AtomicLong watchFailures = new AtomicLong();
  private final Map<String, LongAdder> watchFailureReasons = new ConcurrentHashMap<>();
  /** Time from send to a RETRY_LATER, and to a session refusal, while recording (where writes wait). */
  final Latencies shedLatency = new Latencies();
  final Latencies refusedLatency = new Latencies();
  /** While judging: what each expired member lived through since its last OK answer (at most 10,000). */
  private volatile List<ExpiryTrace> expiryTraces;
  /** While judging: heartbeats that failed outside the protocol's codes (timeouts, transport), by class. */
  private final Map<String, LongAdder> errorReasons = new ConcurrentHashMap<>();

  /**
   * One expiry as its member saw it: since its last OK answer (or its first send, when it never had
   * one) how long, how many heartbeats shed, fallen back to the log or failed, and how long the
   * heartbeat that got UNKNOWN_MEMBER waited.
   */
  record ExpiryTrace(long sinceOkMs, long refusedAfterMs, boolean everOk, int shed, int fallbacks, int errors,
      String member, String lastCalls) {}

  /** How many of a member's last calls an expiry tells, and of how many expiries per step. */
  static final int CALLS_KEPT = 8;
  static final int EXPIRIES_TOLD = 3;
  private static final String[] CALL_KINDS = {"quiet", "replicated", "keep-alive"};
  private static final byte QUIET = 0;
  private static final byte REPLICATED = 1;
  private static final byte KEEP_ALIVE = 2;
  private static final java.time.format.DateTimeFormatter CALL_TIME =
      java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(java.time.ZoneOffset.UTC);

  private final class Sim {
    final String group;
    final String id;
    final CohortClient client;
    com.google.protobuf.ByteString session = com.google.protobuf.ByteString.EMPTY;
    volatile List<PartitionRef> held = List.of();
    /** The last OK answer, null after a failure: whether the next heartbeat may be quiet. */
    volatile HeartbeatResult last;
    /** Since the last OK answer (for {@link ExpiryTrace}): when it came (0: none yet), and what failed since. */
    long lastOkNs;
    long firstSentNs;
    int shedSinceOk;
    int fallbacksSinceOk;
    int errorsSinceOk;
    /**
     * Its last {@link #CALLS_KEPT} calls (guarded by callsLock), told when it expires: sent (wall ms),
     * how long, which path, what came back (null: OK). Arrays, so that a call allocates nothing.
     */
    private final Object callsLock = new Object();
    private final long[] callSentMs = new long[CALLS_KEPT];
    private final int[] callMs = new int[CALLS_KEPT];
    private final byte[] callKind = new byte[CALLS_KEPT];
    private final Throwable[] callFailure = new Throwable[CALLS_KEPT];
    private int callCount;
    /** The session a keep-alive was refused for: no more keep-alives for it. */
    volatile com.google.protobuf.ByteString keepAliveRefused = com.google.protobuf.ByteString.EMPTY;
    /** Calls failed since the last OK answer: the back-off doubles with each. */
    int failuresInARow;
    /** The replicated heartbeat waiting (its number; 0: none), and the session and interval last told. */
    volatile long waiting;
    long replicatedSeq;
    volatile long sessionTimeoutMs;
    volatile long intervalMs;
    // The next beat (guarded by this): scheduled, or a heartbeat in flight.
    private ScheduledFuture<?> nextBeat;
    private long nextBeatAtNs;
    private boolean beating;
    /** The watch saw a change while a heartbeat was out: the next one goes at once. */
    private boolean watchAsked;
    /** When a handoff's short poll is due, counted from the last OK send (a failed watch brings it back). */
    private long handoffPollAtNs = Long.MAX_VALUE;
    /** The watch placed for {@link #watchSession} at {@link #watchView}; null: none. */
    private CompletableFuture<WatchResult> watch;
    private com.google.protobuf.ByteString watchSession;
    private long watchView;

    Sim(String group, String id, CohortClient client) {
      this.group = group;
      this.id = id;
      this.client = client;
    }

    /** A call of {@code kind} sent at {@code sentNs} came back (failed with {@code e}, or OK when null). */
    private void remember(byte kind, long sentNs, Throwable e) {
      long now = System.nanoTime();
      synchronized (callsLock) {
        int i = callCount++ % CALLS_KEPT;
        callSentMs[i] = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(now - sentNs);
        callMs[i] = (int) TimeUnit.NANOSECONDS.toMillis(now - sentNs);
        callKind[i] = kind;
        callFailure[i] = e == null ? null : unwrap(e);
      }
    }

    /** Its last calls, oldest first: "19:09:12.345 quiet 30,012 ms TimeoutException; ...". */
    private String lastCalls() {
      StringBuilder b = new StringBuilder();
      synchronized (callsLock) {
        int n = Math.min(callCount, CALLS_KEPT);
        for (int k = callCount - n; k < callCount; k++) {
          int i = k % CALLS_KEPT;
          Throwable f = callFailure[i];
          String message = String.valueOf(f == null ? null : f.getMessage());
          String outcome = f == null ? "OK" : f instanceof CohortRejectedException re ? re.code().name()
              : f.getClass().getSimpleName() + ": " + message.substring(0, Math.min(80, message.length()));
          b.append(b.length() == 0 ? "" : "; ").append(CALL_TIME.format(java.time.Instant.ofEpochMilli(callSentMs[i])))
              .append(' ').append(CALL_KINDS[callKind[i]]).append(' ').append(String.format("%,d ms ", callMs[i]))
              .append(outcome);
        }
      }
      return b.toString();
    }

    void beat() {
      if (stopped) {
        return;
      }
      synchronized (this) {
        beating = true;
        nextBeat = null;
        watchAsked = false;
      }
      long sent = System.nanoTime();
      if (firstSentNs == 0) {
        firstSentNs = sent;
      }
      Heartbeat hb = Heartbeat.newBuilder().setGroup(group).setConsumerId(id).setSessionToken(session).addAllHeld(held).build();
      if (quiet && quietFits()) {
        call(() -> client.quietHeartbeat(hb, sessionTimeoutMs)).whenComplete((r, e) -> {
          remember(QUIET, sent, e);
          if (e == null || sessionRefusal(e)) {
            if (e == null) {
              quietOk.incrementAndGet();
            }
            answered(sent, r, e);
          } else {
            fallbacks.incrementAndGet();
            fallbacksSinceOk++;
            if (recording != null) {
              fallbackReasons.computeIfAbsent(reason(e), k -> new LongAdder()).increment();
            }
            replicated(hb, sent);
          }
        });
      } else {
        replicated(hb, sent);
      }
    }

    /** Through the log; while it waits, keep-alives on the quiet stream as the client sends them. */
    private void replicated(Heartbeat hb, long sent) {
      long seq = ++replicatedSeq;
      waiting = seq;
      scheduleKeepAlive(seq);
      long replicatedSent = System.nanoTime();
      call(() -> client.heartbeat(hb)).whenComplete((r, e) -> {
        waiting = 0;
        remember(REPLICATED, replicatedSent, e);
        answered(sent, r, e);
      });
    }

    /**
     * As ConsumerLoop: while a replicated heartbeat waits, keep-alives at the client's period from
     * each send (not from its answer), until one is refused for the session (as the client's Exchange).
     */
    private void scheduleKeepAlive(long seq) {
      long period = WatchProtocol.keepAlivePeriodMs(intervalMs, sessionTimeoutMs);
      if (!quiet || sessionTimeoutMs <= 0 || session.isEmpty() || stopped) {
        return;
      }
      try {
        scheduler.schedule(() -> {
          com.google.protobuf.ByteString s = session;
          if (waiting == seq && !stopped && !s.equals(keepAliveRefused)) {
            keepAlives.incrementAndGet();
            Heartbeat alive = Heartbeat.newBuilder().setGroup(group).setConsumerId(id).setSessionToken(s).build();
            long aliveSent = System.nanoTime();
            call(() -> client.quietHeartbeat(alive, sessionTimeoutMs)).whenComplete((r, e) -> {
              remember(KEEP_ALIVE, aliveSent, e);
              if (e != null && sessionGone(e)) {
                keepAliveRefused = s;
              }
            });
            scheduleKeepAlive(seq);
          }
        }, period, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // stopping
      }
    }

    /**
     * As the client's Exchange: the same session, exactly the last grants, no release asked; with
     * {@code quietWhileWaiting} false, also no handoff pending (as before 97c9ae5).
     */
    private boolean quietFits() {
      HeartbeatResult l = last;
      return l != null && !session.isEmpty() && session.equals(l.getSessionToken()) && l.getReleaseCount() == 0
          && (quietWhileWaiting || l.getNextHeartbeatMs() > HANDOFF_INTERVAL_MS) && held.size() == l.getGrantsCount();
    }

    private void answered(long sent, HeartbeatResult r, Throwable e) {
      long now = System.nanoTime();
      if (now - sent >= (long) (HeartbeatStep.P99_LIMIT_MS * 1e6)) {
        lastSlowAnswerNs.accumulateAndGet(now, Math::max);
      }
      long nextMs;
      if (e == null) {
        completed.incrementAndGet();
        Latencies rec = recording;
        if (rec != null) {
          rec.add(now - sent);
          if (now - sent >= (long) (HeartbeatStep.P99_LIMIT_MS * 1e6)) {
            AtomicIntegerArray slow = slowPerSecond;
            int second = (int) ((now - recordingSinceNs) / 1_000_000_000L);
            if (second >= 0 && second < slow.length()) {
              slow.incrementAndGet(second);
            }
          }
        }
        last = r;
        sessionTimeoutMs = r.getSessionTimeoutMs();
        intervalMs = r.getNextHeartbeatMs();
        lastOkNs = now;
        shedSinceOk = fallbacksSinceOk = errorsSinceOk = failuresInARow = 0;
        session = r.getSessionToken();
        List<PartitionRef> h = new ArrayList<>();
        for (Grant g : r.getGrantsList()) {
          PartitionRef ref = PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()).build();
          if (!r.getReleaseList().contains(ref)) {
            h.add(ref);
          }
        }
        held = h;
        nextMs = r.getNextHeartbeatMs();
        if (watches && keepWatching(r) && r.getGroupHeartbeatMs() > nextMs && r.getReleaseCount() == 0) {
          // as the client's Pacer: a placed watch says when the handoff has news, the poll keeps the group's interval
          // (a release asked goes at the handoff interval: the sim's stand-in for the client's "at once when ready")
          long handoffAt = sent + TimeUnit.MILLISECONDS.toNanos(nextMs);
          nextMs = r.getGroupHeartbeatMs();
          synchronized (this) {
            handoffPollAtNs = handoffAt;
          }
        } else {
          synchronized (this) {
            handoffPollAtNs = Long.MAX_VALUE;
          }
        }
      } else {
        Throwable t = unwrap(e);
        if (!(t instanceof CohortRejectedException re && re.code() == Code.RETRY_LATER)) {
          last = null; // as the client's Exchange: a retry-after changed nothing, the next may still go quiet
        }
        if (t instanceof CohortRejectedException re && re.code() == Code.RETRY_LATER) {
          shed.incrementAndGet(); // as GroupConsumer does: wait the retry-after with jitter, keep the session
          if (re.foundNoLeader()) {
            noLeaderRetries.incrementAndGet();
          }
          shedSinceOk++;
          if (recording != null) {
            shedLatency.add(now - sent);
          }
          long wait = Jitter.spread(re.retryAfterMs(500));
          long leftMs = lastOkNs == 0 || sessionTimeoutMs <= 0 ? 0
              : TimeUnit.NANOSECONDS.toMillis(lastOkNs - now) + sessionTimeoutMs - sessionTimeoutMs / 5;
          if (leftMs > 0) { // as the client's Pacer: never past half the time left before its readers would stop
            wait = Math.min(wait, Math.max(100, leftMs / 2));
          }
          nextMs = TimeUnit.NANOSECONDS.toMillis(now - sent) + wait; // counted from the answer, not the send
        } else if (t instanceof CohortRejectedException re && (re.code() == Code.UNKNOWN_MEMBER || re.code() == Code.FENCED)) {
          rejoins.incrementAndGet();
          if (recording != null) {
            refusedLatency.add(now - sent);
          }
          if (re.code() == Code.UNKNOWN_MEMBER) {
            expired.incrementAndGet();
            List<ExpiryTrace> traces = expiryTraces;
            if (traces != null && traces.size() < 10_000) {
              long since = now - (lastOkNs != 0 ? lastOkNs : firstSentNs);
              traces.add(new ExpiryTrace(TimeUnit.NANOSECONDS.toMillis(since), TimeUnit.NANOSECONDS.toMillis(now - sent),
                  lastOkNs != 0, shedSinceOk, fallbacksSinceOk, errorsSinceOk, group + "/" + id,
                  traces.size() < EXPIRIES_TOLD ? lastCalls() : null)); // only those printed: a collapse has thousands
            }
          }
          session = com.google.protobuf.ByteString.EMPTY;
          held = List.of();
          nextMs = 0;
        } else {
          errors.incrementAndGet();
          errorsSinceOk++;
          if (expiryTraces != null) {
            errorReasons.computeIfAbsent(reason(e), k -> new LongAdder()).increment();
          }
          // as the client's Pacer: 500 ms doubling while failures repeat, up to 10 s, spread over [0.5, 1.5)
          nextMs = Math.min(10_000, Jitter.spread(Math.min(10_000, 500L << Math.min(failuresInARow++, 10))));
        }
      }
      long delayNs = Math.max(0, sent + TimeUnit.MILLISECONDS.toNanos(nextMs) - now);
      synchronized (this) {
        beating = false;
        beatIn(watchAsked ? 0 : delayNs); // a watch that fired while this heartbeat was out: at once
      }
    }

    /** Guarded by this: the next beat in {@code delayNs}. */
    private void beatIn(long delayNs) {
      nextBeat = schedule(this, delayNs);
      nextBeatAtNs = System.nanoTime() + delayNs;
    }

    /** Guarded by this: the scheduled beat goes by {@code atNs} at the latest (none while one is in flight). */
    private void beatBy(long atNs) {
      if (!beating && nextBeat != null && atNs < nextBeatAtNs && nextBeat.cancel(false)) {
        beatIn(Math.max(0, atNs - System.nanoTime()));
      }
    }

    /**
     * After an OK answer: the watch for its session and view, placed unless one already waits (as
     * the client's Watcher). Whether one is placed (a failed one is placed again after the next answer).
     */
    private boolean keepWatching(HeartbeatResult r) {
      long view = AssignmentView.of(r);
      CompletableFuture<WatchResult> w;
      synchronized (this) {
        if (watch != null && !watch.isDone() && view == watchView && r.getSessionToken().equals(watchSession)) {
          return true;
        }
        if (watch != null) {
          watch.cancel(false);
        }
        watchSession = r.getSessionToken();
        watchView = view;
        w = client.watch(WatchRequest.newBuilder().setGroup(group).setConsumerId(id).setSessionToken(watchSession)
            .setKnownView(view).setTimeoutMs(ConsumerConfig.DEFAULT_WATCH_TIMEOUT_MS).build());
        watch = w;
      }
      w.whenComplete((wr, e) -> watched(w, view, wr, e));
      return !w.isCompletedExceptionally();
    }

    private void watched(CompletableFuture<WatchResult> w, long view, WatchResult wr, Throwable e) {
      if (stopped || w.isCancelled()) {
        return;
      }
      synchronized (this) {
        if (w != watch) {
          return; // superseded
        }
        if (e == null && wr.getCode() == Code.OK && !(wr.getChanged() && wr.getView() != view)) {
          watch = null; // timed out unchanged: the next answer places it again
          return;
        }
        watch = null;
        if (e == null) {
          watchChanges.incrementAndGet();
          watchAsked = true;
          beatBy(System.nanoTime()); // the view changed (or the session or group is gone): heartbeat now
        } else {
          watchFailures.incrementAndGet();
          String m = String.valueOf(unwrap(e).getMessage()).replaceAll("[0-9]+", "N");
          watchFailureReasons.computeIfAbsent(m.substring(0, Math.min(120, m.length())), k -> new LongAdder()).increment();
          beatBy(handoffPollAtNs); // no watch: a handoff is polled at its own interval again
        }
      }
    }
  }

  private static CompletableFuture<HeartbeatResult> call(Supplier<CompletableFuture<HeartbeatResult>> send) {
    try {
      return send.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }

  private static String reason(Throwable e) {
    Throwable t = unwrap(e);
    if (t instanceof CohortRejectedException re) {
      String m = String.valueOf(re.getMessage());
      int i = m.indexOf("heartbeat: ");
      return re.code() + (i >= 0 ? ": " + m.substring(i + "heartbeat: ".length()) : "");
    }
    return t.getClass().getSimpleName();
  }

  /**
   * A refusal the replicated heartbeat would get too, or a saturated leader's RETRY_LATER (as the
   * client: not sent again through the log; the shed one waits its retry-after).
   */
  private static boolean sessionRefusal(Throwable e) {
    return unwrap(e) instanceof CohortRejectedException re && switch (re.code()) {
      case FENCED, UNKNOWN_MEMBER, NOT_FOUND, PERMISSION_DENIED, RETRY_LATER -> true;
      default -> false;
    };
  }

  /** The session is gone for good: expired, replaced, its group deleted, or not this principal's. */
  private static boolean sessionGone(Throwable e) {
    return unwrap(e) instanceof CohortRejectedException re && switch (re.code()) {
      case FENCED, UNKNOWN_MEMBER, NOT_FOUND, PERMISSION_DENIED -> true;
      default -> false;
    };
  }

  /**
   * @param quiet send heartbeats that change nothing as quiet queries (false: every one through the log)
   * @param quietWhileWaiting with quiet, also the polls of a member waiting for a grant (false: as before 97c9ae5)
   * @param watches each member keeps a watch, and a handoff is polled at the group's interval while it is placed
   */
  HeartbeatSim(List<CohortClient> clients, int threads, boolean quiet, boolean quietWhileWaiting, boolean watches) {
    this.quiet = quiet;
    this.quietWhileWaiting = quietWhileWaiting;
    this.watches = watches;
    this.clients = clients;
    this.scheduler = Executors.newScheduledThreadPool(threads, r -> {
      Thread t = new Thread(r, "bench-heartbeat");
      t.setDaemon(true);
      return t;
    });
  }

  private ScheduledFuture<?> schedule(Sim s, long delayNs) {
    if (!stopped) {
      try {
        return scheduler.schedule(s::beat, delayNs, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // stopping
      }
    }
    return null;
  }

  /** Adds consumers {@code prefix-0..n-1} of {@code group}; their first heartbeats spread over {@code spreadMs}. */
  void add(String group, String prefix, int n, long spreadMs) {
    for (int i = 0; i < n; i++) {
      Sim s = new Sim(group, prefix + "-" + i, clients.get(sims.size() % clients.size()));
      sims.add(s);
      synchronized (s) {
        s.beatIn(TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextLong(Math.max(1, spreadMs))));
      }
    }
  }

  int size() {
    return sims.size();
  }

  /**
   * Members still in a handoff of the step's join storm: no OK answer yet or since a failure, a
   * release asked of them, a grant they wait for (the short poll interval), or grants not all held.
   */
  int inHandoff() {
    int n = 0;
    for (Sim s : sims) {
      HeartbeatResult l = s.last;
      if (l == null || l.getReleaseCount() > 0 || l.getNextHeartbeatMs() <= HANDOFF_INTERVAL_MS
          || s.held.size() != l.getGrantsCount()) {
        n++;
      }
    }
    return n;
  }

  /** Nanoseconds since the latest answer slower than the p99 limit (Long.MAX_VALUE: none yet). */
  long sinceSlowAnswerNs() {
    long at = lastSlowAnswerNs.get();
    return at == 0 ? Long.MAX_VALUE : System.nanoTime() - at;
  }

  /** Records latencies (and why quiet heartbeats fell back) into {@code into} from now on; null stops. */
  void record(Latencies into) {
    if (into != null) {
      fallbackReasons.clear();
      slowPerSecond = new AtomicIntegerArray(600);
      recordingSinceNs = System.nanoTime();
    }
    recording = into;
  }

  /** From now on keeps an {@link ExpiryTrace} per expiry and the errors' reasons (the step's judged part). */
  void judge() {
    errorReasons.clear();
    expiryTraces = java.util.Collections.synchronizedList(new ArrayList<>());
  }

  /** What the expired members lived through since {@link #judge()}: counts and spans, one line. */
  String expirySummary() {
    List<ExpiryTrace> traces = expiryTraces;
    if (traces == null || traces.isEmpty()) {
      return "";
    }
    List<ExpiryTrace> t;
    synchronized (traces) {
      t = new ArrayList<>(traces);
    }
    long[] since = t.stream().mapToLong(ExpiryTrace::sinceOkMs).sorted().toArray();
    long[] waited = t.stream().mapToLong(ExpiryTrace::refusedAfterMs).sorted().toArray();
    return String.format("%d expired; since their last OK answer (or first send) p50 %,d / max %,d ms; the refused "
            + "heartbeat waited p50 %,d / max %,d ms; never answered OK %d; since the last OK: shed %d, fell back %d, "
            + "failed %d of them", t.size(), since[since.length / 2], since[since.length - 1],
        waited[waited.length / 2], waited[waited.length - 1], t.stream().filter(x -> !x.everOk()).count(),
        t.stream().filter(x -> x.shed() > 0).count(), t.stream().filter(x -> x.fallbacks() > 0).count(),
        t.stream().filter(x -> x.errors() > 0).count());
  }

  /** The first {@link #EXPIRIES_TOLD} expired members since {@link #judge()} and their last calls, one line each. */
  List<String> expiredMembersLastCalls() {
    List<ExpiryTrace> traces = expiryTraces;
    List<String> out = new ArrayList<>();
    if (traces != null) {
      synchronized (traces) {
        for (ExpiryTrace t : traces.subList(0, Math.min(EXPIRIES_TOLD, traces.size()))) {
          out.add(t.member() + ": " + t.lastCalls());
        }
      }
    }
    return out;
  }

  /** Why heartbeats failed outside the protocol's codes since {@link #judge()}, most frequent first. */
  String errorReasons() {
    return byCount(errorReasons);
  }

  /** Answers slower than the p99 limit per second of the last recording, up to {@code seconds}. */
  String slowPerSecond(int seconds) {
    AtomicIntegerArray slow = slowPerSecond;
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(seconds, slow.length()); i++) {
      b.append(i == 0 ? "" : " ").append(slow.get(i));
    }
    return b.toString();
  }

  /** Why watches failed since the step began, most frequent first. */
  String watchFailureReasons() {
    return byCount(watchFailureReasons);
  }

  /** Why quiet heartbeats fell back while recording, most frequent first. */
  String fallbackReasons() {
    return byCount(fallbackReasons);
  }

  private static String byCount(Map<String, LongAdder> reasons) {
    StringBuilder b = new StringBuilder();
    reasons.entrySet().stream().sorted((a, c) -> Long.compare(c.getValue().sum(), a.getValue().sum()))
        .forEach(en -> b.append(b.length() == 0 ? "" : "; ").append(en.getValue().sum()).append(" x ").append(en.getKey()));
    return b.toString();
  }

  /** Stops heartbeating; every member leaves (so the next step starts from an empty cluster). */
  void stop() throws InterruptedException {
    stopped = true;
    for (Sim s : sims) {
      synchronized (s) {
        if (s.watch != null) {
          s.watch.cancel(false);
        }
      }
    }
    scheduler.shutdownNow();
    scheduler.awaitTermination(10, TimeUnit.SECONDS);
    List<CompletableFuture<?>> leaves = new ArrayList<>();
    for (Sim s : sims) {
      if (!s.session.isEmpty()) {
        leaves.add(s.client.leave(Leave.newBuilder().setGroup(s.group).setConsumerId(s.id).setSessionToken(s.session).build())
            .exceptionally(e -> null));
      }
      if (leaves.size() >= 512) {
        CompletableFuture.allOf(leaves.toArray(CompletableFuture[]::new)).join();
        leaves.clear();
      }
    }
    CompletableFuture.allOf(leaves.toArray(CompletableFuture[]::new)).join();
  }
}
