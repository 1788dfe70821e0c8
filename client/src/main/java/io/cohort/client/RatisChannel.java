package io.cohort.client;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.client.tls.ClientTls;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto.TypeCase;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.retry.ExceptionDependentRetry;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.ProtoUtils;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis side of a {@link CohortClient}: one {@code RaftClient} at a time with its retry policy
 * and timeouts, sending command and query bytes, and turning what comes back into bytes or a typed
 * {@link CohortException} (through {@link Failures}). It knows nothing of Cohort's messages.
 *
 * <p>Ratis' ordered async calls share a sliding window: once one call fails for good, every later
 * call on that client fails too. The channel then replaces the client, keeping its {@link ClientId}
 * (Ratis' call ids come from one JVM-wide counter, so the new client's calls never collide with
 * the old one's in the servers' retry cache; and each new client opens its own gRPC streams, whose
 * server-side sliding windows start afresh with its first call, so reusing the id is safe).
 */
final class RatisChannel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RatisChannel.class);
  /** Calls that may wait for a slot, per call allowed in flight (maxOutstanding). */
  static final int QUEUED_PER_OUTSTANDING = 16;

  /** Parses the state machine's reply bytes. */
  interface Parser<T> {
    T parse(byte[] bytes) throws InvalidProtocolBufferException;
  }

  private final CohortClientConfig config;
  private final ClientTls tls;
  /** The configured peers plus the members seen last (see {@link #learnMembers}): what a new RaftClient uses. */
  private volatile RaftGroup group;
  /** {@link #members()} and the group it was built from: rebuilt only when the group changed. */
  private volatile Members members;
  /** Ids as Ratis sends them: comparing them allocates nothing on the path of every reply. */
  private volatile Set<ByteString> knownMembers;
  private final ClientId clientId = ClientId.randomId();
  private final List<RaftPeerId> peerIds;
  private final ExecutorService staleReads;
  private final AtomicInteger replacements = new AtomicInteger();
  private final Object lock = new Object();
  private volatile RaftClient raft;
  /** The peer last seen leading (a write's reply, a leader's off-log answer), or null: see {@link #leader}. */
  private volatile RaftPeerId leaderSeen;
  private volatile boolean closed;
  /** Ratis' async calls beyond maxOutstanding wait here, not in Ratis' semaphore that blocks the caller. */
  private final CallAdmission admission;
  /**
   * The last attempt that failed in a TLS handshake. A refused certificate can surface as a reset
   * connection on the attempt Ratis gives up on; the call's failure then still names the refusal.
   */
  private volatile TlsFailure lastTlsFailure;

  /** An attempt's TLS failure and when it was seen. */
  record TlsFailure(long atNanos, SSLException cause) {}

  RatisChannel(CohortClientConfig config) {
    this.config = config;
    this.tls = config.tls() == null ? null : ClientTls.of(config.tls(), config.peers());
    this.group = RaftGroup.valueOf(config.groupId(), config.peers().toRaftPeers());
    List<RaftPeerId> ids = new ArrayList<>();
    for (Peers.Peer p : config.peers().list()) {
      ids.add(RaftPeerId.valueOf(p.id()));
    }
    this.peerIds = List.copyOf(ids);
    this.knownMembers = config.peers().toRaftPeers().stream().map(p -> p.getId().toByteString())
        .collect(Collectors.toUnmodifiableSet());
    this.raft = newRaftClient();
    this.admission = new CallAdmission(config.maxOutstanding(),
        (int) Math.min(Integer.MAX_VALUE, (long) QUEUED_PER_OUTSTANDING * config.maxOutstanding()), System::nanoTime);
    this.staleReads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "cohort-client-stale-read");
      t.setDaemon(true);
      return t;
    });
  }

  /** The client's TLS, or null on plaintext. */
  ClientTls tls() {
    return tls;
  }

  /** The id every RaftClient of this channel uses (stable across replacements). */
  ClientId clientId() {
    return clientId;
  }

  /** The RaftClient in use now. */
  RaftClient raftClient() {
    return raft;
  }

  /** How many times a failed RaftClient was replaced. */
  int replacements() {
    return replacements.get();
  }

  private RaftClient newRaftClient() {
    return RaftClient.newBuilder()
        .setClientId(clientId)
        .setProperties(properties(config))
        .setRaftGroup(group)
        .setRetryPolicy(observing(retryPolicy(config), this::attemptFailed))
        .setParameters(tls == null ? new Parameters() : tls.parameters())
        .build();
  }

  static RaftProperties properties(CohortClientConfig config) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p,
        TimeDuration.valueOf(config.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS));
    RaftClientConfigKeys.Async.setOutstandingRequestsMax(p, config.maxOutstanding());
    return p;
  }

  /**
   * Exponential backoff with jitter, bounded by attempts and by the call's total time (Ratis'
   * default retries forever). A NotLeaderException naming the leader is retried at once by Ratis;
   * a StateMachineException (a refusal) is never retried by Ratis, nor by this channel, nor is a
   * server interceptor's refusal ({@link PermissionDeniedIOException}, R11). A new leader that is
   * not ready yet is only committing its first entry (100-300 ms on a loaded machine): it is asked
   * again from a tenth of the base up to the base, so the first call after it is ready is not a
   * full backoff step late.
   */
  static RetryPolicy retryPolicy(CohortClientConfig config) {
    long base = config.backoffBase().toMillis();
    long max = config.backoffMax().toMillis();
    int attempts = (int) Math.min(10_000, 10 + config.callTimeout().toMillis() / Math.max(1, base));
    TimeDuration total = TimeDuration.valueOf(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    RequestTypeDependentRetryPolicy.Builder b = RequestTypeDependentRetryPolicy.newBuilder();
    for (TypeCase type : new TypeCase[] {TypeCase.WRITE, TypeCase.READ, TypeCase.STALEREAD,
        TypeCase.WATCH, TypeCase.MESSAGESTREAM, TypeCase.DATASTREAM, TypeCase.FORWARD}) {
      b.setRetryPolicy(type, ExceptionDependentRetry.newBuilder()
          .setExceptionToPolicy(PermissionDeniedIOException.class, RetryPolicies.noRetry())
          .setExceptionToPolicy(LeaderNotReadyException.class, backoff(Math.max(1, base / 10), base, attempts))
          .setDefaultPolicy(backoff(base, max, attempts))
          .build());
      b.setTimeout(type, total);
    }
    return b.build();
  }

  /** The policy, shown each failed attempt's cause first. */
  static RetryPolicy observing(RetryPolicy policy, Consumer<Throwable> attemptFailed) {
    return new RetryPolicy() {
      @Override
      public Action handleAttemptFailure(Event event) {
        if (event.getCause() != null) {
          attemptFailed.accept(event.getCause());
        }
        return policy.handleAttemptFailure(event);
      }

      @Override
      public String toString() {
        return policy.toString();
      }
    };
  }

  private void attemptFailed(Throwable cause) {
    SSLException tls = Failures.find(cause, SSLException.class);
    if (tls != null) {
      lastTlsFailure = new TlsFailure(System.nanoTime(), tls);
    }
  }

  private static RetryPolicy backoff(long baseMs, long maxMs, int attempts) {
    return ExponentialBackoffRetry.newBuilder()
        .setBaseSleepTime(TimeDuration.valueOf(baseMs, TimeUnit.MILLISECONDS))
        .setMaxSleepTime(TimeDuration.valueOf(maxMs, TimeUnit.MILLISECONDS))
        .setMaxAttempts(attempts)
        .build();
  }

  // ------------------------------------------------------------------ writes

  /** Sends command bytes; the reply is parsed, failures are typed. Never retried here. */
  <T> CompletableFuture<T> write(byte[] bytes, String what, Parser<T> parser) {
    RaftClient[] used = new RaftClient[1]; // the client the call went out on (none if it never did)
    return admitted(() -> (used[0] = raft).async().send(message(bytes)), what).handle((reply, error) -> {
      if (error != null) {
        throw failed(used[0], error, what);
      }
      T decoded = decode(reply, what, parser);
      leaderSeen = reply.getServerId(); // a write is answered by the leader that committed it
      return decoded;
    });
  }

  /**
   * The peer to send off-log calls to (quiet heartbeats, watches): the one last seen leading, else
   * the Raft client's leader, else null. Not the Raft client's alone: after an attempt timed out,
   * Ratis takes a random other peer for the leader until a reply says otherwise, and a keep-alive
   * sent to a follower renews nothing (bench heartbeat: sessions expired behind such guesses).
   */
  RaftPeerId leader() {
    RaftPeerId seen = leaderSeen;
    return seen != null ? seen : raft.getLeaderId();
  }

  /** {@code peer} answered as the leader, or a peer named it the leader. */
  void sawLeader(RaftPeerId peer) {
    leaderSeen = peer;
  }

  // ------------------------------------------------------------------ reads

  /**
   * Runs a query.
   *
   * @throws IllegalArgumentException if a stale read names a peer that is not in the peers list
   */
  <T> CompletableFuture<T> read(byte[] bytes, ReadMode mode, String what, Parser<T> parser) {
    Message msg = message(bytes);
    if (!mode.isStale()) {
      return linearizableRead(msg, what, parser, System.nanoTime() + config.callTimeout().toNanos(), 0);
    }
    if (mode.peerId() != null) {
      RaftPeerId peer = RaftPeerId.valueOf(mode.peerId());
      if (!peerIds.contains(peer)) {
        throw new IllegalArgumentException("peer '" + mode.peerId() + "' is not one of " + config.peers());
      }
      return staleRead(msg, peer, what, parser);
    }
    int first = ThreadLocalRandom.current().nextInt(peerIds.size());
    return staleFrom(msg, first, 0, what, parser);
  }

  /**
   * A ReadIndex read. A follower that knows no leader answers at once (ReadIndexException) and
   * Ratis does not retry that, so it is retried here with backoff until the call timeout; a
   * refusal (not retriable) is returned at once.
   */
  private <T> CompletableFuture<T> linearizableRead(Message msg, String what, Parser<T> parser,
      long deadlineNanos, int attempt) {
    RaftClient[] used = new RaftClient[1];
    return admitted(() -> (used[0] = raft).async().sendReadOnly(msg), what).handle((reply, error) -> {
      if (error != null) {
        throw failed(used[0], error, what);
      }
      return decode(reply, what, parser);
    }).exceptionallyCompose(e -> {
      CohortException ce = Failures.map(e, what, closed);
      long delayMs = Math.min(config.backoffMax().toMillis(), config.backoffBase().toMillis() << Math.min(attempt, 20));
      if (!ce.isRetriable() || closed || System.nanoTime() + delayMs * 1_000_000 > deadlineNanos) {
        return CompletableFuture.failedFuture(ce);
      }
      return CompletableFuture.supplyAsync(() -> null,
              CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS))
          .thenCompose(x -> linearizableRead(msg, what, parser, deadlineNanos, attempt + 1));
    });
  }

  /**
   * Stale reads go through Ratis' blocking API on a small pool: its ordered async stream is shared
   * with the leader's and a read sent to one chosen peer does not mix well with it.
   */
  private <T> CompletableFuture<T> staleRead(Message msg, RaftPeerId peer, String what, Parser<T> parser) {
    RaftClient used = raft;
    CompletableFuture<T> out = new CompletableFuture<>();
    try {
      staleReads.execute(() -> {
        try {
          out.complete(decode(used.io().sendStaleRead(msg, 0, peer), what, parser));
        } catch (Throwable t) {
          out.completeExceptionally(Failures.map(t, what + " on " + peer, closed));
        }
      });
    } catch (RejectedExecutionException e) {
      out.completeExceptionally(new CohortClosedException(what + ": the client is closed", e));
    }
    return out;
  }

  private <T> CompletableFuture<T> staleFrom(Message msg, int first, int tried, String what, Parser<T> parser) {
    RaftPeerId peer = peerIds.get((first + tried) % peerIds.size());
    return staleRead(msg, peer, what, parser).exceptionallyCompose(e -> {
      CohortException ce = Failures.map(e, what, closed);
      if (ce.isRetriable() && tried + 1 < peerIds.size()) {
        return staleFrom(msg, first, tried + 1, what, parser);
      }
      return CompletableFuture.failedFuture(ce);
    });
  }

  // ------------------------------------------------------------------ failures

  /**
   * Maps a failure; when Ratis gave up on the call (which fails its whole window), the RaftClient
   * is replaced by one with the same client id for the calls that follow.
   */
  private CohortException failed(RaftClient used, Throwable error, String what) {
    CohortException mapped = withTlsFailure(Failures.map(error, what, closed), lastTlsFailure,
        System.nanoTime(), config.callTimeout().toNanos());
    if (mapped instanceof CohortUnavailableException && !closed && Failures.poisonsWindow(error)) {
      RaftClient old = null;
      synchronized (lock) {
        if (raft == used && !closed) {
          old = raft;
          raft = newRaftClient();
          replacements.incrementAndGet();
        }
      }
      if (old != null) {
        LOG.info("{} failed for good ({}); continuing with a new Ratis client, same client id {}",
            what, mapped.getMessage(), clientId);
        closeLater(old);
      }
    }
    return mapped;
  }

  /**
   * An unavailable call whose own cause shows no TLS failure gets, as a suppressed exception, the
   * one an attempt saw within the last call timeout.
   */
  static CohortException withTlsFailure(CohortException mapped, TlsFailure seen, long nowNanos, long windowNanos) {
    if (mapped instanceof CohortUnavailableException && seen != null && nowNanos - seen.atNanos() <= windowNanos
        && Failures.find(mapped, SSLException.class) == null) {
      mapped.addSuppressed(seen.cause());
    }
    return mapped;
  }

  /**
   * Closes a failed client on a thread of its own: this runs inside Ratis' failure callback, which
   * holds the client's sliding-window lock, and {@code close()} waits for Ratis' timer threads that
   * wait for that lock (a deadlock seen in bench commit: a call that never completed).
   */
  private static void closeLater(RaftClient c) {
    Thread t = new Thread(() -> closeQuietly(c), "cohort-close-failed-raft-client");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(RaftClient c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      LOG.debug("closing a failed Ratis client: {}", e.toString());
    }
  }

  /**
   * An async Ratis call through {@link #admission}; a call that waited there for a slot longer than
   * the call timeout fails unsent.
   */
  private CompletableFuture<RaftClientReply> admitted(Supplier<CompletableFuture<RaftClientReply>> send, String what) {
    return admission.submit(send, System.nanoTime() + config.callTimeout().toNanos(), what);
  }

  /**
   * Ratis learns new peers only from a NotLeaderException, and a replaced RaftClient starts from
   * the configured peers: a client whose known peers were all replaced one by one lost the cluster
   * for good (chaos with --replace-every-s 20). Every reply carries commit infos, one per member
   * the answering server replicates to or hears from, with its address; when they name a member
   * this channel does not know, the group the next RaftClient is built with becomes the configured
   * peers plus these members, and the current client gets their addresses.
   */
  void learnMembers(RaftClientReply reply) {
    Collection<CommitInfoProto> infos = reply.getCommitInfos();
    if (infos == null || infos.isEmpty()) {
      return;
    }
    Set<ByteString> known = knownMembers;
    boolean news = false;
    for (CommitInfoProto i : infos) {
      if (!known.contains(i.getServer().getId())) {
        news = true;
        break;
      }
    }
    if (!news) {
      return;
    }
    List<RaftPeer> seen = infos.stream().map(i -> ProtoUtils.toRaftPeer(i.getServer())).toList();
    Map<RaftPeerId, RaftPeer> members = new LinkedHashMap<>();
    config.peers().toRaftPeers().forEach(p -> members.put(p.getId(), p));
    seen.forEach(p -> members.put(p.getId(), p));
    synchronized (lock) {
      group = RaftGroup.valueOf(config.groupId(), List.copyOf(members.values()));
      knownMembers = seen.stream().map(p -> p.getId().toByteString()).collect(Collectors.toUnmodifiableSet());
    }
    raft.getClientRpc().addRaftPeers(seen);
    LOG.info("{}: members seen {}; a new Ratis client would use {}", clientId,
        seen.stream().map(RaftPeer::getId).toList(), group.getPeers());
  }

  /** The group a new RaftClient of this channel is built with. */
  RaftGroup group() {
    return group;
  }

  /**
   * The configured peers plus the members seen since (as {@link #group}): where off-log calls and
   * watches may go. A node added by {@code cluster replace} leads in time; a client that knew only
   * the configured peers could not reach it (chaos: every consumer lost its session while the
   * leader, a replacement, was elected during a stall of the one before).
   */
  Peers members() {
    Members m = members;
    RaftGroup g = group;
    if (m == null || m.of() != g) {
      m = new Members(g, Peers.of(List.copyOf(g.getPeers())));
      members = m;
    }
    return m.peers();
  }

  private record Members(RaftGroup of, Peers peers) {}

  private <T> T decode(RaftClientReply reply, String what, Parser<T> parser) {
    learnMembers(reply);
    if (!reply.isSuccess()) {
      throw Failures.map(reply.getException() != null ? reply.getException()
          : new IOException("unsuccessful reply " + reply), what, closed);
    }
    try {
      return parser.parse(reply.getMessage().getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new CohortException(what + ": the server's reply is not a Cohort message", e);
    }
  }

  private static Message message(byte[] bytes) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
  }

  @Override
  public void close() {
    RaftClient c;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      c = raft;
    }
    staleReads.shutdownNow();
    try {
      c.close();
    } catch (IOException e) {
      throw new CohortException("closing the Ratis client failed", e);
    }
  }

  @Override
  public String toString() {
    return "RatisChannel{" + config.peers() + ", group " + config.groupId() + ", client " + clientId + "}";
  }
}
