package io.cohort.server;

import com.google.protobuf.ByteString;
import io.cohort.client.PermissionDeniedIOException;
import io.cohort.client.WatchProtocol;
import io.cohort.server.tls.AccessInterceptor;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerServiceDefinition;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCallStreamObserver;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's side of the watch (R12), served on the Raft port ({@link WatchProtocol}) behind the
 * access interceptor. A watch is answered at once when the member's view already differs from the
 * one it knows (or its session or group is gone), else parked until a change or its timeout.
 *
 * <p>The apply thread only signals ({@link #changed}, {@link #changedAll}): it marks the members
 * an apply touched (or, for rare commands, the group) and schedules one evaluation on this
 * service's own thread, which compares each marked parked watch with the applied state (under the
 * state machine's lock, one member at a time) and answers those that changed. Passes are at least {@link #PASS_SPACING_MS} apart, so a busy group
 * costs one pass per spacing, not one per applied command. Only the leader answers: a follower
 * answers UNAVAILABLE with the leader's id, and a node that stops leading sends every parked watch
 * away the same way. A hint only: nothing here changes the state.
 *
 * <p>The same service carries quiet heartbeats (step 11) to the leader's off-log answer ({@link
 * QuietHeartbeats}): one stream per client, answers in any order. It skips the Ratis client
 * protocol's per-request work (request wrapping, sliding windows, per-request timers) and its
 * ordered replies, where one answer that waits for the leader's writes held back every later one.
 */
final class WatchService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WatchService.class);
  static final long PASS_SPACING_MS = 2;
  /** A consumer keeps one watch; a second parks while the first's cancel is on its way. */
  static final int MAX_PER_CONSUMER = 2;
  /** A watch with nothing to tell is answered after its timeout less up to this share of it (at random). */
  static final double TIMEOUT_SPREAD = 0.5;
  /** Names are at most 255 characters (R9); a session token is 16 bytes. */
  static final int MAX_NAME_CHARS = 255;
  static final int MAX_TOKEN_BYTES = 64;
  /** Quiet heartbeats one stream may have taken in and not yet answered to a ready stream. */
  static final int MAX_QUIET_IN_FLIGHT = 4096;
  private static final Metadata.Key<String> EXCEPTION_TYPE =
      Metadata.Key.of("exception-type", Metadata.ASCII_STRING_MARSHALLER);

  /** The applied state's answer for one member (takes the state machine's lock). */
  interface Views {
    WatchResult watch(String group, String consumerId, ByteString session, String principal);
  }

  /** The leader's answer to a quiet heartbeat ({@link OffLogLiveness}: it judges its own leadership). */
  interface QuietHeartbeats {
    CompletableFuture<QueryResult> answer(Heartbeat hb, String principal);
  }

  /** Null when this node leads and may answer; else the leader's id ("" when it knows none). */
  interface Leadership {
    String notLeader();

    /**
     * Whether this node is the Raft leader, ready or not, fresh or not: its quiet heartbeats go to
     * {@link QuietHeartbeats}, which asks for a retry while it cannot answer yet.
     */
    default boolean raftLeader() {
      return false;
    }
  }

  private final String self;
  private final Views views;
  private final QuietHeartbeats quiet;
  private final Leadership leadership;
  /** group -> consumer id -> its parked watches (at most {@link #MAX_PER_CONSUMER}). */
  private final Map<String, Map<String, List<Parked>>> byGroup = new ConcurrentHashMap<>();
  private final Set<String> dirty = ConcurrentHashMap.newKeySet();
  private final Set<TouchedMembers.Member> dirtyMembers = ConcurrentHashMap.newKeySet();
  private volatile boolean allDirty;
  private final AtomicBoolean passScheduled = new AtomicBoolean();
  private final ScheduledExecutorService executor;
  private final AtomicLong answered = new AtomicLong();
  private volatile long lastPassNanos;
  /**
   * Quiet heartbeats that reached this node while it led no term and knew no leader (an election,
   * or its own step-down), held up to {@link #LEADER_WAIT_MS} for the leader it learns of. Sent to
   * the log instead, they were one write each on the new leader at once: after a 2 s stall of the
   * leader at 8,500 consumers, ~8,000 writes and ~30 s of slow answers.
   */
  private final ConcurrentLinkedQueue<Unled> unled = new ConcurrentLinkedQueue<>();
  private final AtomicInteger unledCount = new AtomicInteger();
  static final long LEADER_WAIT_MS = 1_000;
  static final long LEADER_LOOK_MS = 50;
  /** Beyond this many held, more are answered NEEDS_WRITE at once. */
  static final int MAX_UNLED = 65_536;

  private record Unled(QuietStream stream, QuietHeartbeatRequest req, long sinceNanos) {}

  WatchService(String self, Views views, QuietHeartbeats quiet, Leadership leadership) {
    this.self = self;
    this.views = views;
    this.quiet = quiet;
    this.leadership = leadership;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cohort-watch-" + self);
      t.setDaemon(true);
      return t;
    });
    executor.scheduleWithFixedDelay(this::lookForLeader, LEADER_LOOK_MS, LEADER_LOOK_MS, TimeUnit.MILLISECONDS);
  }

  /** Held quiet heartbeats: judged here if this node leads again, else sent on to the leader it learned of. */
  private void lookForLeader() {
    if (unled.isEmpty()) {
      return;
    }
    String leader = leaderElsewhere();
    long now = System.nanoTime();
    for (Iterator<Unled> it = unled.iterator(); it.hasNext();) {
      Unled u = it.next();
      boolean waitedEnough = now - u.sinceNanos() >= TimeUnit.MILLISECONDS.toNanos(LEADER_WAIT_MS);
      if (leader == null || !knowsNoOtherLeader(leader) || waitedEnough) {
        it.remove();
        unledCount.decrementAndGet();
        try {
          if (leader == null) {
            u.stream().judge(u.req());
          } else {
            u.stream().answerNotLeader(u.req(), knowsNoOtherLeader(leader) ? "" : leader);
          }
        } catch (RuntimeException e) { // one stream's failure must not end the periodic look
          LOG.warn("[{}] a held quiet heartbeat could not be answered: {}", self, e.toString());
        }
      }
    }
  }

  /** Null when this node is the Raft leader (it judges quiet heartbeats); else the leader it knows, "" if none. */
  private String leaderElsewhere() {
    return leadership.raftLeader() ? null : leadership.notLeader();
  }

  private boolean knowsNoOtherLeader(String leader) {
    return leader.isEmpty() || leader.equals(self); // itself: the leader id a step-down has not cleared yet
  }

  /**
   * Quiet heartbeats are handled on the transport's thread that read them ({@link CallThreads}): an
   * answer takes two short locks and never waits (what must wait for writes continues on another
   * thread), and on two cores each hand-off to another thread cost a wake-up per heartbeat.
   */
  static final String QUIET_INLINE = WatchProtocol.QUIET_HEARTBEATS.getFullMethodName();

  ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(WatchProtocol.SERVICE)
        .addMethod(WatchProtocol.METHOD, ServerCalls.asyncUnaryCall(this::watch))
        .addMethod(WatchProtocol.QUIET_HEARTBEATS, ServerCalls.asyncBidiStreamingCall(this::quietHeartbeats))
        .build();
  }

  /** Watches parked now (tests, metrics). */
  int parked() {
    int n = 0;
    for (Map<String, List<Parked>> g : byGroup.values()) {
      for (List<Parked> l : g.values()) {
        synchronized (l) {
          n += l.size();
        }
      }
    }
    return n;
  }

  /** Watches answered "heartbeat now" so far (tests). */
  long changesAnswered() {
    return answered.get();
  }

  // ------------------------------------------------------------------ a request

  private void watch(WatchRequest req, StreamObserver<WatchResult> out) {
    String principal = AccessInterceptor.PRINCIPAL.get();
    if (principal == null) {
      out.onError(Status.PERMISSION_DENIED.withDescription("no principal").asRuntimeException());
      return;
    }
    String invalid = invalid(req);
    if (invalid != null) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(invalid).asRuntimeException());
      return;
    }
    String leader = leadership.notLeader();
    if (leader != null) {
      out.onError(notLeaderError(leader));
      return;
    }
    WatchResult now = views.watch(req.getGroup(), req.getConsumerId(), req.getSessionToken(), principal);
    if (now.getCode() == Code.PERMISSION_DENIED) {
      Audit.call(self, principal, WatchProtocol.METHOD.getFullMethodName(), "PERMISSION_DENIED", now.getMessage());
      Metadata trailers = new Metadata();
      trailers.put(EXCEPTION_TYPE, PermissionDeniedIOException.class.getName());
      out.onError(Status.PERMISSION_DENIED.withDescription(now.getMessage()).asRuntimeException(trailers));
      return;
    }
    if (now.getCode() != Code.OK || now.getView() != req.getKnownView()) {
      answered.incrementAndGet();
      out.onNext(now.toBuilder().setChanged(true).build());
      out.onCompleted();
      return;
    }
    Parked p = new Parked(req, principal, out);
    Parked evicted = park(p);
    if (evicted != null) { // the oldest of this consumer's watches: answered "nothing new" (a hint only)
      forget(evicted);
      evicted.finish(unchanged(evicted), null);
    }
    if (out instanceof ServerCallStreamObserver<WatchResult> call) {
      call.setOnCancelHandler(() -> forget(p));
    }
    long timeout = spreadMs(Math.min(req.getTimeoutMs(), WatchProtocol.MAX_TIMEOUT_MS),
        ThreadLocalRandom.current().nextDouble());
    try {
      p.timeout = executor.schedule(() -> timedOut(p), timeout, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      p.finish(null, Status.UNAVAILABLE.withDescription(self + " is stopping").asRuntimeException());
      forget(p);
      return;
    }
    changed(req.getGroup(), req.getConsumerId()); // a change applied between the look above and the parking
  }

  /**
   * When a watch of {@code timeoutMs} with nothing to tell is answered: between half of it and all of
   * it ({@code u} in [0, 1)). Every consumer places its watch again within moments of a leader change,
   * so unspread they all came back unchanged at once a timeout later, and were placed again at once:
   * after a leader stall at 8,500 consumers, slow seconds and a lost majority ~15–20 s after each new
   * leader (docs/BENCHMARKS.md). Earlier is always allowed: "unchanged" is a hint, not a promise.
   */
  static long spreadMs(long timeoutMs, double u) {
    return timeoutMs - (long) (timeoutMs * TIMEOUT_SPREAD * u);
  }

  /** A client's stream of quiet heartbeats; no principal: refused. Package-private for tests. */
  StreamObserver<QuietHeartbeatRequest> quietHeartbeats(StreamObserver<QuietHeartbeatAnswer> out) {
    String principal = AccessInterceptor.PRINCIPAL.get();
    if (principal == null || !(out instanceof ServerCallStreamObserver<QuietHeartbeatAnswer> call)) {
      out.onError(Status.PERMISSION_DENIED.withDescription("no principal").asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(QuietHeartbeatRequest value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    return new QuietStream(principal, call);
  }

  /**
   * One client's quiet heartbeats. Each is answered on its own, in any order: the leader's off-log
   * answer whatever its code (the coordinator validates the heartbeat and checks the principal's
   * rights, as for one sent as a Ratis read), NEEDS_WRITE from a node that does not lead. Flow
   * control bounds what a client can make this node hold: at most {@link #MAX_QUIET_IN_FLIGHT}
   * requests are taken in before their answers went out to a ready stream.
   */
  private final class QuietStream implements StreamObserver<QuietHeartbeatRequest> {
    private final String principal;
    private final ServerCallStreamObserver<QuietHeartbeatAnswer> out;
    /** Requests not taken in again because their answers met a stream that was not ready (guarded by out). */
    private int owed;
    /** Requests taken in and not answered yet (guarded by out). */
    private int unanswered;
    /** The client sent its last request: the stream ends after the last answer (guarded by out). */
    private boolean halfClosed;
    private boolean ended;

    QuietStream(String principal, ServerCallStreamObserver<QuietHeartbeatAnswer> out) {
      this.principal = principal;
      this.out = out;
      out.disableAutoRequest();
      out.setOnReadyHandler(this::ready);
      out.setOnCancelHandler(() -> {
        synchronized (out) {
          ended = true;
        }
      });
      out.request(MAX_QUIET_IN_FLIGHT);
    }

    @Override
    public void onNext(QuietHeartbeatRequest req) {
      synchronized (out) {
        unanswered++;
      }
      judge(req);
    }

    /** The Raft leader answers it (or asks for a retry); a node that does not lead names the leader. */
    void judge(QuietHeartbeatRequest req) {
      String leader = leaderElsewhere();
      if (leader != null) {
        sendOnOrHold(req, leader);
        return;
      }
      CompletableFuture<QueryResult> answer;
      try {
        answer = quiet.answer(req.getHeartbeat(), principal);
      } catch (RuntimeException e) {
        answer = CompletableFuture.failedFuture(e);
      }
      answer.whenComplete((r, e) -> {
        QueryResult result = e == null ? r : QueryResult.newBuilder().setCode(Code.NEEDS_WRITE)
            .setMessage("send it as a replicated heartbeat: not answered off the log: " + e).build();
        String now = result.getCode() == Code.NEEDS_WRITE ? leaderElsewhere() : null;
        if (now != null) {
          sendOnOrHold(req, now); // it stopped leading meanwhile: the leader it learns of judges it
        } else {
          answer(req.getId(), result);
        }
      });
    }

    /** Names the leader this node knows; knowing none, holds the heartbeat until it does (a while at most). */
    private void sendOnOrHold(QuietHeartbeatRequest req, String leader) {
      boolean none = knowsNoOtherLeader(leader);
      if (none) {
        if (unledCount.incrementAndGet() <= MAX_UNLED) {
          unled.add(new Unled(this, req, System.nanoTime()));
          return;
        }
        unledCount.decrementAndGet();
      }
      answerNotLeader(req, none ? "" : leader);
    }

    void answerNotLeader(QuietHeartbeatRequest req, String leader) {
      answer(QuietHeartbeatAnswer.newBuilder().setId(req.getId()).setLeader(leader).setNotLeader(true).setResult(
          QueryResult.newBuilder().setCode(Code.NEEDS_WRITE).setMessage("send it as a replicated heartbeat: " + self
              + " is not the leader" + (leader.isEmpty() ? "" : "; the leader is " + leader))).build());
    }

    private void answer(long id, QueryResult r) {
      answer(QuietHeartbeatAnswer.newBuilder().setId(id).setResult(r).build());
    }

    private void answer(QuietHeartbeatAnswer a) {
      synchronized (out) {
        unanswered--;
        if (ended) {
          return;
        }
        out.onNext(a);
        if (halfClosed) {
          endIfAnswered();
        } else if (out.isReady()) {
          out.request(1);
        } else {
          owed++;
        }
      }
    }

    private void endIfAnswered() {
      if (unanswered == 0 && !ended) {
        ended = true;
        out.onCompleted();
      }
    }

    private void ready() {
      synchronized (out) {
        if (owed > 0 && !ended && out.isReady()) {
          out.request(owed);
          owed = 0;
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      synchronized (out) {
        ended = true;
      }
    }

    @Override
    public void onCompleted() {
      synchronized (out) {
        halfClosed = true;
        endIfAnswered();
      }
    }
  }

  /** Why the request cannot be served, or null. Checked before anything is looked up. */
  private static String invalid(WatchRequest req) {
    if (req.getGroup().isEmpty() || req.getGroup().length() > MAX_NAME_CHARS) {
      return "a watch names a group of 1 to " + MAX_NAME_CHARS + " characters";
    }
    if (req.getConsumerId().isEmpty() || req.getConsumerId().length() > MAX_NAME_CHARS) {
      return "a watch names a consumer id of 1 to " + MAX_NAME_CHARS + " characters";
    }
    if (req.getSessionToken().size() > MAX_TOKEN_BYTES) {
      return "a session token has at most " + MAX_TOKEN_BYTES + " bytes, not " + req.getSessionToken().size();
    }
    if (req.getTimeoutMs() < 0) {
      return "a watch's timeout is at least 0 ms, not " + req.getTimeoutMs();
    }
    return null;
  }

  private static WatchResult unchanged(Parked p) {
    return WatchResult.newBuilder().setCode(Code.OK).setChanged(false).setView(p.req.getKnownView()).build();
  }

  /** Parks {@code p}; returns the consumer's oldest watch when it already had the most it may park. */
  private Parked park(Parked p) {
    Parked[] evicted = new Parked[1];
    byGroup.compute(p.req.getGroup(), (k, g) -> {
      Map<String, List<Parked>> consumers = g == null ? new ConcurrentHashMap<>() : g;
      consumers.compute(p.req.getConsumerId(), (c, l) -> {
        List<Parked> mine = l == null ? new ArrayList<>(1) : l;
        synchronized (mine) {
          mine.add(p);
          evicted[0] = mine.size() > MAX_PER_CONSUMER ? mine.get(0) : null;
        }
        return mine;
      });
      return consumers;
    });
    return evicted[0];
  }

  private void timedOut(Parked p) {
    forget(p);
    p.finish(unchanged(p), null);
  }

  /** Unparks {@code p}; empty lists and groups go (atomically with a concurrent park of the same key). */
  private void forget(Parked p) {
    byGroup.computeIfPresent(p.req.getGroup(), (k, g) -> {
      g.computeIfPresent(p.req.getConsumerId(), (c, mine) -> {
        synchronized (mine) {
          mine.remove(p);
          return mine.isEmpty() ? null : mine;
        }
      });
      return g.isEmpty() ? null : g;
    });
    if (p.timeout != null) {
      p.timeout.cancel(false);
    }
  }

  /** Every parked watch now. */
  private List<Parked> all() {
    List<Parked> all = new ArrayList<>();
    for (Map<String, List<Parked>> g : byGroup.values()) {
      for (List<Parked> l : g.values()) {
        synchronized (l) {
          all.addAll(l);
        }
      }
    }
    return all;
  }

  private RuntimeException notLeaderError(String leader) {
    Metadata trailers = new Metadata();
    trailers.put(WatchProtocol.LEADER, leader);
    return Status.UNAVAILABLE.withDescription(self + " is not the leader"
        + (leader.isEmpty() ? "" : "; the leader is " + leader)).asRuntimeException(trailers);
  }

  // ------------------------------------------------------------------ signals (apply thread: cheap, never blocks)

  /** Something in {@code group} was applied. */
  void changed(String group) {
    if (byGroup.containsKey(group)) {
      dirty.add(group);
      schedulePass();
    }
  }

  /** Something the member's watch may want to know was applied (a grant, a release asked, ...). */
  void changed(String group, String consumerId) {
    Map<String, List<Parked>> g = byGroup.get(group);
    if (g != null && g.containsKey(consumerId)) {
      dirtyMembers.add(new TouchedMembers.Member(group, consumerId));
      schedulePass();
    }
  }

  /** Something that may touch any group was applied (topics, limits, ACL). */
  void changedAll() {
    if (!byGroup.isEmpty()) {
      allDirty = true;
      schedulePass();
    }
  }

  /** This node no longer leads: every parked watch goes to {@code leader} ("" when unknown). */
  void notLeader(String leader) {
    try {
      executor.execute(() -> {
        for (Parked p : all()) {
          forget(p);
          p.finish(null, notLeaderError(leader));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed
    }
  }

  private void schedulePass() {
    if (!passScheduled.compareAndSet(false, true)) {
      return;
    }
    long waitNanos = lastPassNanos + TimeUnit.MILLISECONDS.toNanos(PASS_SPACING_MS) - System.nanoTime();
    try {
      executor.schedule(this::pass, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      passScheduled.set(false);
    }
  }

  private void pass() {
    passScheduled.set(false); // a signal from now on schedules another pass
    lastPassNanos = System.nanoTime();
    List<String> groups;
    if (allDirty) {
      allDirty = false;
      dirty.clear();
      groups = new ArrayList<>(byGroup.keySet());
    } else {
      groups = new ArrayList<>(dirty);
      dirty.removeAll(groups);
    }
    List<TouchedMembers.Member> members = new ArrayList<>(dirtyMembers);
    dirtyMembers.removeAll(members);
    if (groups.isEmpty() && members.isEmpty()) {
      return;
    }
    String leader = leadership.notLeader();
    for (String group : groups) {
      Map<String, List<Parked>> consumers = byGroup.get(group);
      if (consumers != null) {
        consumers.values().forEach(mine -> look(group, mine, leader));
      }
    }
    for (TouchedMembers.Member m : members) {
      Map<String, List<Parked>> consumers = groups.contains(m.group()) ? null : byGroup.get(m.group());
      List<Parked> mine = consumers == null ? null : consumers.get(m.consumerId());
      if (mine != null) {
        look(m.group(), mine, leader);
      }
    }
  }

  /** Answers those of a consumer's parked watches whose view changed (or all of them, to the leader). */
  private void look(String group, List<Parked> mine, String leader) {
    List<Parked> copy;
    synchronized (mine) {
      copy = new ArrayList<>(mine);
    }
    for (Parked p : copy) {
      if (leader != null) {
        forget(p);
        p.finish(null, notLeaderError(leader));
        continue;
      }
      WatchResult now = views.watch(group, p.req.getConsumerId(), p.req.getSessionToken(), p.principal);
      if (now.getCode() != Code.OK || now.getView() != p.req.getKnownView()) {
        forget(p);
        if (p.finish(now.toBuilder().setChanged(true).build(), null)) {
          answered.incrementAndGet();
        }
      }
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    for (Unled u; (u = unled.poll()) != null; ) {
      u.stream().answerNotLeader(u.req(), "");
    }
    List<Parked> all = all();
    byGroup.clear();
    for (Parked p : all) {
      p.finish(null, Status.UNAVAILABLE.withDescription(self + " is stopping").asRuntimeException());
    }
  }

  /** A watch waiting for a change; answered once. */
  private static final class Parked {
    final WatchRequest req;
    final String principal;
    final StreamObserver<WatchResult> out;
    final AtomicBoolean done = new AtomicBoolean();
    volatile ScheduledFuture<?> timeout;

    Parked(WatchRequest req, String principal, StreamObserver<WatchResult> out) {
      this.req = req;
      this.principal = principal;
      this.out = out;
    }

    boolean finish(WatchResult result, RuntimeException error) {
      if (!done.compareAndSet(false, true)) {
        return false;
      }
      try {
        if (error != null) {
          out.onError(error);
        } else {
          out.onNext(result);
          out.onCompleted();
        }
      } catch (RuntimeException e) {
        // the call was cancelled meanwhile: nobody to tell
      }
      return true;
    }
  }
}
