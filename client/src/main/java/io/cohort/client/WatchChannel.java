package io.cohort.client;

import io.cohort.client.tls.ClientTls;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.thirdparty.com.google.common.util.concurrent.MoreExecutors;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ClientCall;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.NegotiationType;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContext;

/**
 * A client's gRPC channels to Cohort's own service ({@link WatchProtocol}: watches, R12, and quiet
 * heartbeats, step 11): one per peer, opened on first use, with the same TLS key and trust material
 * as its Raft client (a node must present the certificate of the peer id expected at that address).
 */
final class WatchChannel implements AutoCloseable {
  /** A follower answered: the leader is elsewhere ({@code leader} may be null when it knows none). */
  static final class NotLeader extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String leader;

    NotLeader(String peer, String leader) {
      super(peer + " is not the leader" + (leader == null ? "" : "; the leader is " + leader), null, false, false);
      this.leader = leader;
    }
  }

  /** A placed watch: its answer, and a way to give it up. */
  record Call(CompletableFuture<WatchResult> result, Runnable cancel) {}

  private final java.util.function.Supplier<Peers> peers;
  private final SslContext tls; // null: plaintext
  private final java.util.function.Supplier<String> leader;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Map<String, QuietStream> quietStreams = new ConcurrentHashMap<>();
  /**
   * Fails quiet heartbeats past their timeout, every {@link #SWEEP_EVERY_MS}: one pass over what is
   * in flight instead of a timer set and cancelled per heartbeat (at 13,300 heartbeats/s those
   * timers' shared queue and wake-ups were 2-4 % of a load's sampled CPU). Started with the first stream.
   */
  private volatile ScheduledExecutorService sweeper;
  private volatile boolean closed;

  /** A quiet heartbeat fails at most this long after its timeout. */
  static final long SWEEP_EVERY_MS = 50;

  WatchChannel(Peers peers, ClientTls tls) {
    this(() -> peers, tls, () -> null);
  }

  /**
   * @param peers the peers the client knows now (the configured ones plus members seen since)
   * @param leader the peer the client last saw leading (a leader's answer, a write's reply), or null
   */
  WatchChannel(java.util.function.Supplier<Peers> peers, ClientTls tls, java.util.function.Supplier<String> leader) {
    this.peers = peers;
    this.tls = tls == null ? null : tls.grpcClientContext();
    this.leader = leader;
  }

  /** The peer the client last saw leading, or null when it knows none. */
  String leader() {
    return leader.get();
  }

  List<String> peerIds() {
    List<String> ids = new ArrayList<>();
    peers.get().list().forEach(p -> ids.add(p.id()));
    return ids;
  }

  /** Places a watch on {@code peer}; the call's deadline is the watch's timeout plus {@code slackMs}. */
  Call watch(String peer, WatchRequest request, long slackMs) {
    CompletableFuture<WatchResult> out = new CompletableFuture<>();
    ManagedChannel channel;
    try {
      channel = channel(peer);
    } catch (RuntimeException e) {
      out.completeExceptionally(e);
      return new Call(out, () -> {});
    }
    ClientCall<WatchRequest, WatchResult> call = channel.newCall(WatchProtocol.METHOD,
        CallOptions.DEFAULT.withDeadlineAfter(request.getTimeoutMs() + slackMs, TimeUnit.MILLISECONDS));
    ClientCalls.asyncUnaryCall(call, request, new StreamObserver<>() {
      @Override
      public void onNext(WatchResult value) {
        out.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        out.completeExceptionally(mapped(peer, t));
      }

      @Override
      public void onCompleted() {
        out.completeExceptionally(new IllegalStateException(peer + " ended the watch without an answer"));
      }
    });
    return new Call(out, () -> call.cancel("superseded", null));
  }

  /**
   * Sends a quiet heartbeat to {@code peer} on this client's stream to it (opened on first use,
   * again after it broke): its off-log answer, whatever the code, and the leader a follower named.
   * Not answered within {@code timeoutMs}: fails with a {@link TimeoutException} (at most {@link
   * #SWEEP_EVERY_MS} later); if no answer at all came on the
   * stream meanwhile, the stream is reset (a wedged connection is not reused). A stream still
   * answering is kept: resetting it would fail every heartbeat waiting on it at once, and under
   * overload send them all to the log.
   */
  CompletableFuture<QuietHeartbeatAnswer> quietHeartbeat(String peer, Heartbeat hb, long timeoutMs) {
    return quietHeartbeat(peer, hb, timeoutMs, 0, null);
  }

  /**
   * As {@link #quietHeartbeat(String, Heartbeat, long)}; while it has no answer, {@code whileSilent}
   * runs every {@code everyMs} (on the timeout thread: it must not block), so the caller can ask
   * another peer. A stalled leader's connection stays open and silent: every member waiting on it
   * lost its session to the leader elected meanwhile (docs/BENCHMARKS.md, "A leader stalled 15 s").
   */
  CompletableFuture<QuietHeartbeatAnswer> quietHeartbeat(String peer, Heartbeat hb, long timeoutMs, long everyMs,
      Runnable whileSilent) {
    QuietStream s;
    try {
      s = quietStream(peer);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return s.send(hb, timeoutMs, whileSilent == null || everyMs <= 0 ? 0 : TimeUnit.MILLISECONDS.toNanos(everyMs),
        whileSilent);
  }

  private QuietStream quietStream(String peer) {
    QuietStream open = quietStreams.get(peer); // every quiet heartbeat comes here: no lock while the stream lives
    if (open != null && !open.broken) {
      return open;
    }
    ManagedChannel channel = channel(peer);
    startSweeper();
    return quietStreams.compute(peer, (id, s) -> s != null && !s.broken ? s : new QuietStream(peer, channel));
  }

  private void startSweeper() {
    if (sweeper != null) {
      return;
    }
    synchronized (this) {
      if (sweeper == null && !closed) {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "cohort-quiet-timeouts");
          t.setDaemon(true);
          return t;
        });
        s.scheduleWithFixedDelay(this::sweep, SWEEP_EVERY_MS, SWEEP_EVERY_MS, TimeUnit.MILLISECONDS);
        sweeper = s;
      }
    }
  }

  /** Whether the timeout thread runs (tests). */
  boolean sweeping() {
    ScheduledExecutorService s = sweeper;
    return s != null && !s.isTerminated();
  }

  private void sweep() {
    long now = System.nanoTime();
    for (QuietStream s : quietStreams.values()) {
      try {
        s.failOverdue(now);
      } catch (RuntimeException e) {
        s.reset("a timeout check failed: " + e); // never lose the sweeper to one stream
      }
    }
  }

  /**
   * A quiet heartbeat waiting for its answer: when it was sent, when it times out, and when (if
   * ever) the caller is told it is still silent (nanoTime).
   */
  private static final class Sent {
    final CompletableFuture<QuietHeartbeatAnswer> answer;
    final long sentNanos;
    final long dueNanos;
    final long timeoutMs;
    final long silentEveryNanos; // 0: never told
    final Runnable whileSilent;
    long silentAtNanos; // the timeout thread's only

    Sent(CompletableFuture<QuietHeartbeatAnswer> answer, long sentNanos, long timeoutMs, long silentEveryNanos,
        Runnable whileSilent) {
      this.answer = answer;
      this.sentNanos = sentNanos;
      this.dueNanos = sentNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      this.timeoutMs = timeoutMs;
      this.silentEveryNanos = silentEveryNanos;
      this.whileSilent = whileSilent;
      this.silentAtNanos = sentNanos + silentEveryNanos;
    }
  }

  /** One long-lived stream of quiet heartbeats to one peer; answers are matched to requests by id. */
  private final class QuietStream implements StreamObserver<QuietHeartbeatAnswer> {
    private final String peer;
    private final Map<Long, Sent> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final StreamObserver<QuietHeartbeatRequest> requests;
    private volatile boolean broken;
    /** When the last answer arrived (nanoTime): a timeout resets the stream only if it fell silent. */
    private volatile long lastAnswerNanos = System.nanoTime();

    QuietStream(String peer, ManagedChannel channel) {
      this.peer = peer;
      // Answers are taken on the transport thread that read them: what depends on an answer must
      // not block anyway (see CohortClient#quietHeartbeat), and a hand-off per answer costs a
      // thread wake-up per heartbeat.
      this.requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(WatchProtocol.QUIET_HEARTBEATS,
          CallOptions.DEFAULT.withExecutor(MoreExecutors.directExecutor())), this);
    }

    CompletableFuture<QuietHeartbeatAnswer> send(Heartbeat hb, long timeoutMs, long silentEveryNanos,
        Runnable whileSilent) {
      long id = ids.incrementAndGet();
      CompletableFuture<QuietHeartbeatAnswer> answer = new CompletableFuture<>();
      pending.put(id, new Sent(answer, System.nanoTime(), timeoutMs, silentEveryNanos, whileSilent));
      synchronized (this) { // a StreamObserver takes one caller at a time
        if (broken) {
          pending.remove(id);
          return CompletableFuture.failedFuture(new IllegalStateException("the quiet heartbeat stream to " + peer
              + " broke"));
        }
        requests.onNext(QuietHeartbeatRequest.newBuilder().setId(id).setHeartbeat(hb).build());
      }
      return answer;
    }

    /** Fails what is past its timeout; resets the stream if one of them had no answer at all after it. */
    void failOverdue(long nowNanos) {
      Sent silentSince = null;
      for (Map.Entry<Long, Sent> e : pending.entrySet()) {
        Sent s = e.getValue();
        if (nowNanos - s.dueNanos >= 0 && pending.remove(e.getKey(), s)) {
          s.answer.completeExceptionally(new TimeoutException("quiet heartbeat to " + peer + ": no answer in "
              + s.timeoutMs + " ms"));
          if (lastAnswerNanos - s.sentNanos < 0) {
            silentSince = s;
          }
        } else if (s.whileSilent != null && nowNanos - s.silentAtNanos >= 0) {
          s.silentAtNanos += s.silentEveryNanos;
          try {
            s.whileSilent.run();
          } catch (RuntimeException ignored) {
            // the caller's: the stream itself is fine
          }
        }
      }
      if (silentSince != null) {
        reset("no quiet heartbeat was answered in the " + silentSince.timeoutMs + " ms since one was sent");
      }
    }

    private void reset(String why) {
      synchronized (this) {
        if (broken) {
          return;
        }
        broken = true;
        requests.onError(Status.CANCELLED.withDescription(why).asRuntimeException());
      }
    }

    @Override
    public void onNext(QuietHeartbeatAnswer a) {
      lastAnswerNanos = System.nanoTime();
      Sent s = pending.remove(a.getId());
      if (s != null) {
        s.answer.complete(a);
      }
    }

    @Override
    public void onError(Throwable t) {
      ended(mapped(peer, t));
    }

    @Override
    public void onCompleted() {
      ended(new IllegalStateException(peer + " ended the quiet heartbeat stream"));
    }

    private void ended(Throwable why) {
      synchronized (this) {
        broken = true;
      }
      quietStreams.remove(peer, this);
      for (Long id : List.copyOf(pending.keySet())) {
        Sent s = pending.remove(id);
        if (s != null) {
          s.answer.completeExceptionally(why);
        }
      }
    }
  }

  private static Throwable mapped(String peer, Throwable t) {
    if (t instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
      Metadata trailers = e.getTrailers();
      String leader = trailers == null ? null : trailers.get(WatchProtocol.LEADER);
      if (leader != null) {
        return new NotLeader(peer, leader.isEmpty() ? null : leader);
      }
    }
    return t;
  }

  private ManagedChannel channel(String peer) {
    if (closed) {
      throw new CohortClosedException("watch: the client is closed", null);
    }
    return channels.computeIfAbsent(peer, id -> {
      Peers.Peer p = peers.get().find(id).orElseThrow(() -> new IllegalArgumentException("no peer " + id));
      NettyChannelBuilder b = NettyChannelBuilder.forTarget(p.address()).proxyDetector(a -> null);
      if (tls != null) {
        b.useTransportSecurity().sslContext(tls);
      } else {
        b.negotiationType(NegotiationType.PLAINTEXT);
      }
      return b.build();
    });
  }

  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      if (sweeper != null) {
        sweeper.shutdownNow();
      }
    }
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow(); // open streams fail their pending quiet heartbeats
    }
    channels.clear();
    quietStreams.clear();
  }
}
