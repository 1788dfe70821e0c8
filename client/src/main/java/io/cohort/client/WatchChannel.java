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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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

  private final Peers peers;
  private final SslContext tls; // null: plaintext
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Map<String, QuietStream> quietStreams = new ConcurrentHashMap<>();
  private volatile boolean closed;

  WatchChannel(Peers peers, ClientTls tls) {
    this.peers = peers;
    this.tls = tls == null ? null : tls.grpcClientContext();
  }

  List<String> peerIds() {
    List<String> ids = new ArrayList<>();
    peers.list().forEach(p -> ids.add(p.id()));
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
   * Not answered within {@code timeoutMs}: fails with a timeout; if no answer at all came on the
   * stream meanwhile, the stream is reset (a wedged connection is not reused). A stream still
   * answering is kept: resetting it would fail every heartbeat waiting on it at once, and under
   * overload send them all to the log.
   */
  CompletableFuture<QuietHeartbeatAnswer> quietHeartbeat(String peer, Heartbeat hb, long timeoutMs) {
    QuietStream s;
    try {
      s = quietStream(peer);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return s.send(hb, timeoutMs);
  }

  private QuietStream quietStream(String peer) {
    QuietStream open = quietStreams.get(peer); // every quiet heartbeat comes here: no lock while the stream lives
    if (open != null && !open.broken) {
      return open;
    }
    ManagedChannel channel = channel(peer);
    return quietStreams.compute(peer, (id, s) -> s != null && !s.broken ? s : new QuietStream(peer, channel));
  }

  /** One long-lived stream of quiet heartbeats to one peer; answers are matched to requests by id. */
  private final class QuietStream implements StreamObserver<QuietHeartbeatAnswer> {
    private final String peer;
    private final Map<Long, CompletableFuture<QuietHeartbeatAnswer>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final StreamObserver<QuietHeartbeatRequest> requests;
    private volatile boolean broken;
    /** When the last answer arrived (nanoTime): a timeout resets the stream only if it fell silent. */
    private volatile long lastAnswerNanos = System.nanoTime();

    QuietStream(String peer, ManagedChannel channel) {
      this.peer = peer;
      this.requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(WatchProtocol.QUIET_HEARTBEATS,
          CallOptions.DEFAULT), this);
    }

    CompletableFuture<QuietHeartbeatAnswer> send(Heartbeat hb, long timeoutMs) {
      long id = ids.incrementAndGet();
      CompletableFuture<QuietHeartbeatAnswer> answer = new CompletableFuture<>();
      pending.put(id, answer);
      synchronized (this) { // a StreamObserver takes one caller at a time
        if (broken) {
          pending.remove(id);
          return CompletableFuture.failedFuture(new IllegalStateException("the quiet heartbeat stream to " + peer
              + " broke"));
        }
        requests.onNext(QuietHeartbeatRequest.newBuilder().setId(id).setHeartbeat(hb).build());
      }
      long sentNanos = System.nanoTime();
      return answer.orTimeout(timeoutMs, TimeUnit.MILLISECONDS).whenComplete((r, e) -> {
        pending.remove(id);
        if (e instanceof java.util.concurrent.TimeoutException && lastAnswerNanos - sentNanos < 0) {
          reset("no quiet heartbeat was answered in the " + timeoutMs + " ms since one was sent");
        }
      });
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
      CompletableFuture<QuietHeartbeatAnswer> f = pending.remove(a.getId());
      if (f != null) {
        f.complete(a);
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
        CompletableFuture<QuietHeartbeatAnswer> f = pending.remove(id);
        if (f != null) {
          f.completeExceptionally(why);
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
      Peers.Peer p = peers.find(id).orElseThrow(() -> new IllegalArgumentException("no peer " + id));
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
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow(); // open streams fail their pending quiet heartbeats
    }
    channels.clear();
    quietStreams.clear();
  }
}
