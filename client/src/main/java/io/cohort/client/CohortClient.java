package io.cohort.client;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.proto.CheckpointList;
import io.cohort.statemachine.proto.ClusterInfoQuery;
import io.cohort.statemachine.proto.ClusterInfoView;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.SetLimits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.DescribeTopicQuery;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.ListCheckpoints;
import io.cohort.statemachine.proto.ListGroups;
import io.cohort.statemachine.proto.ListTopics;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.StateDigest;
import io.cohort.statemachine.proto.TopicView;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto.TypeCase;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Talks to a Cohort cluster: admin calls, queries, and the consumer calls (heartbeat, commit,
 * leave). Async first: every call returns a {@link CompletableFuture} that completes with the
 * answer or exceptionally with a {@link CohortException} ({@link CohortRejectedException} carrying
 * the state machine's code, {@link CohortUnavailableException} when the cluster did not answer
 * within the configured budget, {@link CohortClosedException}). {@link #blocking()} offers the same
 * calls as blocking methods.
 *
 * <p>One Ratis {@code RaftClient} per instance, so retries of a write reuse its client and call id
 * and the servers' retry cache applies it at most once. It follows the leader by itself. Thread
 * safe; share one instance per process and close it when done.
 */
public final class CohortClient implements AutoCloseable, ConsumerTransport {
  private static final Logger LOG = LoggerFactory.getLogger(CohortClient.class);

  private final CohortClientConfig config;
  private final RaftGroup group;
  private final List<RaftPeerId> peerIds;
  private final BlockingCohortClient blocking;
  private final ExecutorService staleReads;
  private final Object lock = new Object();
  /** Replaced when a call failed for good: Ratis then refuses every later async call on it. */
  private volatile RaftClient raft;
  private volatile boolean closed;

  private CohortClient(CohortClientConfig config) {
    this.config = config;
    this.group = RaftGroup.valueOf(config.groupId(), config.peers().toRaftPeers());
    this.raft = newRaftClient();
    List<RaftPeerId> ids = new ArrayList<>();
    for (Peers.Peer p : config.peers().list()) {
      ids.add(RaftPeerId.valueOf(p.id()));
    }
    this.peerIds = List.copyOf(ids);
    this.blocking = new BlockingCohortClient(this);
    this.staleReads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "cohort-client-stale-read");
      t.setDaemon(true);
      return t;
    });
  }

  private RaftClient newRaftClient() {
    return RaftClient.newBuilder()
        .setProperties(properties(config))
        .setRaftGroup(group)
        .setRetryPolicy(retryPolicy(config))
        .build();
  }

  /**
   * Ratis' ordered async calls share a sliding window: once one call fails for good, the window
   * fails every later call with AlreadyClosedException. So after such a failure this client starts
   * a fresh RaftClient (new client id) for the calls that follow.
   */
  private CohortException failed(RaftClient used, Throwable error, String what) {
    CohortException mapped = Failures.map(error, what, closed);
    if (mapped instanceof CohortUnavailableException && !closed && Failures.poisonsWindow(error)) {
      RaftClient old = null;
      synchronized (lock) {
        if (raft == used && !closed) {
          old = raft;
          raft = newRaftClient();
        }
      }
      if (old != null) {
        LOG.info("{} failed for good ({}); continuing with a new Ratis client", what, mapped.getMessage());
        closeQuietly(old);
      }
    }
    return mapped;
  }

  private static void closeQuietly(RaftClient c) {
    try {
      c.close();
    } catch (java.io.IOException | RuntimeException e) {
      LOG.debug("closing a failed Ratis client: {}", e.toString());
    }
  }

  /** A client for the peers string {@code "n1=host:port,n2=host:port,n3=host:port"}, defaults otherwise. */
  public static CohortClient connect(String peers) {
    return new CohortClient(CohortClientConfig.builder(peers).build());
  }

  public static CohortClient connect(CohortClientConfig config) {
    return new CohortClient(config);
  }

  public CohortClientConfig config() {
    return config;
  }

  /** The same calls, blocking, throwing the typed exceptions. */
  public BlockingCohortClient blocking() {
    return blocking;
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
   * default retries forever). A NotLeaderException naming the leader is retried at once by Ratis.
   */
  static RetryPolicy retryPolicy(CohortClientConfig config) {
    long base = config.backoffBase().toMillis();
    long max = config.backoffMax().toMillis();
    int attempts = (int) Math.min(10_000, 10 + config.callTimeout().toMillis() / Math.max(1, base));
    TimeDuration total = TimeDuration.valueOf(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    RequestTypeDependentRetryPolicy.Builder b = RequestTypeDependentRetryPolicy.newBuilder();
    for (TypeCase type : new TypeCase[] {TypeCase.WRITE, TypeCase.READ, TypeCase.STALEREAD,
        TypeCase.WATCH, TypeCase.MESSAGESTREAM, TypeCase.DATASTREAM, TypeCase.FORWARD}) {
      b.setRetryPolicy(type, ExponentialBackoffRetry.newBuilder()
          .setBaseSleepTime(TimeDuration.valueOf(base, TimeUnit.MILLISECONDS))
          .setMaxSleepTime(TimeDuration.valueOf(max, TimeUnit.MILLISECONDS))
          .setMaxAttempts(attempts)
          .build());
      b.setTimeout(type, total);
    }
    return b.build();
  }

  // ------------------------------------------------------------------ raw commands and queries

  /**
   * Sends a command and returns its {@link Result} whatever its code; fails only when no result
   * came back (unavailable, closed) or the leader refused to append it.
   */
  public CompletableFuture<Result> execute(Command command) {
    return execute(command.toByteArray(), "command " + command.getBodyCase());
  }

  /** Sends command bytes as they are (tests use it to send bytes that do not decode). */
  CompletableFuture<Result> execute(byte[] command, String what) {
    RaftClient used = raft;
    return sendSafely(() -> used.async().send(message(command))).handle((reply, error) -> {
      if (error != null) {
        throw failed(used, error, what);
      }
      return decode(reply, what, Result::parseFrom);
    });
  }

  /**
   * Runs a query and returns its {@link QueryResult} whatever its code.
   *
   * @throws IllegalArgumentException if a stale read names a peer that is not in the peers list
   */
  public CompletableFuture<QueryResult> query(Query query, ReadMode mode) {
    String what = "query " + query.getBodyCase();
    Message msg = message(query.toByteArray());
    if (!mode.isStale()) {
      return linearizableRead(msg, what, System.nanoTime() + config.callTimeout().toNanos(), 0);
    }
    if (mode.peerId() != null) {
      RaftPeerId peer = RaftPeerId.valueOf(mode.peerId());
      if (!peerIds.contains(peer)) {
        throw new IllegalArgumentException("peer '" + mode.peerId() + "' is not one of " + config.peers());
      }
      return staleRead(msg, peer, what);
    }
    int first = ThreadLocalRandom.current().nextInt(peerIds.size());
    return staleFrom(msg, first, 0, what);
  }

  /**
   * A ReadIndex read. A follower that knows no leader answers at once (ReadIndexException) and
   * Ratis does not retry that, so it is retried here with backoff until the call timeout.
   */
  private CompletableFuture<QueryResult> linearizableRead(Message msg, String what, long deadlineNanos,
      int attempt) {
    RaftClient used = raft;
    return sendSafely(() -> used.async().sendReadOnly(msg)).handle((reply, error) -> {
      if (error != null) {
        throw failed(used, error, what);
      }
      return decode(reply, what, QueryResult::parseFrom);
    }).exceptionallyCompose(e -> {
      CohortException ce = Failures.map(e, what, closed);
      long delayMs = Math.min(config.backoffMax().toMillis(), config.backoffBase().toMillis() << Math.min(attempt, 20));
      if (!ce.isRetriable() || closed || System.nanoTime() + delayMs * 1_000_000 > deadlineNanos) {
        return CompletableFuture.failedFuture(ce);
      }
      return CompletableFuture.supplyAsync(() -> null,
              CompletableFuture.delayedExecutor(delayMs, java.util.concurrent.TimeUnit.MILLISECONDS))
          .thenCompose(x -> linearizableRead(msg, what, deadlineNanos, attempt + 1));
    });
  }

  /**
   * Stale reads go through Ratis' blocking API on a small pool: its ordered async stream is shared
   * with the leader's and a read sent to one chosen peer does not mix well with it.
   */
  private CompletableFuture<QueryResult> staleRead(Message msg, RaftPeerId peer, String what) {
    RaftClient used = raft;
    CompletableFuture<QueryResult> out = new CompletableFuture<>();
    try {
      staleReads.execute(() -> {
        try {
          out.complete(decode(used.io().sendStaleRead(msg, 0, peer), what, QueryResult::parseFrom));
        } catch (Throwable t) {
          out.completeExceptionally(Failures.map(t, what + " on " + peer, closed));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      out.completeExceptionally(new CohortClosedException(what + ": the client is closed", e));
    }
    return out;
  }

  private CompletableFuture<QueryResult> staleFrom(Message msg, int first, int tried, String what) {
    RaftPeerId peer = peerIds.get((first + tried) % peerIds.size());
    return staleRead(msg, peer, what).exceptionallyCompose(e -> {
      CohortException ce = Failures.map(e, what, closed);
      if (ce.isRetriable() && tried + 1 < peerIds.size()) {
        return staleFrom(msg, first, tried + 1, what);
      }
      return CompletableFuture.failedFuture(ce);
    });
  }

  private interface Send {
    CompletableFuture<RaftClientReply> send();
  }

  private static CompletableFuture<RaftClientReply> sendSafely(Send send) {
    try {
      return send.send();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private interface Parser<T> {
    T parse(byte[] bytes) throws InvalidProtocolBufferException;
  }

  private <T> T decode(RaftClientReply reply, String what, Parser<T> parser) {
    if (!reply.isSuccess()) {
      throw Failures.map(reply.getException() != null ? reply.getException()
          : new java.io.IOException("unsuccessful reply " + reply), what, closed);
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

  /** Runs a command and returns its body, or fails with {@link CohortRejectedException}. */
  private <T> CompletableFuture<T> command(Command command, Function<Result, T> body) {
    return execute(command).thenApply(r -> {
      if (r.getCode() != Code.OK) {
        throw new CohortRejectedException(r.getCode(), r.getMessage());
      }
      return body.apply(r);
    });
  }

  private <T> CompletableFuture<T> read(Query query, ReadMode mode, Function<QueryResult, T> body) {
    return query(query, mode).thenApply(r -> {
      if (r.getCode() != Code.OK) {
        throw new CohortRejectedException(r.getCode(), r.getMessage());
      }
      return body.apply(r);
    });
  }

  private static Void none(Object ignored) {
    return null;
  }

  // ------------------------------------------------------------------ topics

  public CompletableFuture<TopicView> createTopic(String topic, int partitions) {
    return command(Command.newBuilder().setCreateTopic(
        CreateTopic.newBuilder().setTopic(topic).setPartitions(partitions)).build(), Result::getTopic);
  }

  public CompletableFuture<Void> deleteTopic(String topic) {
    return command(Command.newBuilder().setDeleteTopic(DeleteTopic.newBuilder().setTopic(topic)).build(),
        CohortClient::none);
  }

  /** Splits a partition at the middle of its range; returns the two children's ids. */
  public CompletableFuture<List<Integer>> split(String topic, int partition) {
    return split(SplitPartition.newBuilder().setTopic(topic).setPartition(partition).build());
  }

  /** Splits with an explicit split key and/or end cursor; returns the two children's ids. */
  public CompletableFuture<List<Integer>> split(SplitPartition split) {
    return command(Command.newBuilder().setSplitPartition(split).build(),
        r -> r.getSplit().getChildrenList());
  }

  /** Merges two adjacent active partitions; returns the child's id. */
  public CompletableFuture<Integer> merge(String topic, int partition1, int partition2) {
    return merge(MergePartitions.newBuilder().setTopic(topic).setPartition1(partition1)
        .setPartition2(partition2).build());
  }

  public CompletableFuture<Integer> merge(MergePartitions merge) {
    return command(Command.newBuilder().setMergePartitions(merge).build(),
        r -> r.getSplit().getChildren(0));
  }

  public CompletableFuture<Void> setWeight(String topic, int partition, double weight) {
    return command(Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic(topic)
        .setPartition(partition).setWeight(weight)).build(), CohortClient::none);
  }

  public CompletableFuture<List<TopicView>> listTopics(ReadMode mode) {
    return read(Query.newBuilder().setListTopics(ListTopics.getDefaultInstance()).build(), mode,
        r -> r.getTopics().getTopicsList());
  }

  public CompletableFuture<List<TopicView>> listTopics() {
    return listTopics(ReadMode.linearizable());
  }

  public CompletableFuture<TopicView> describeTopic(String topic, ReadMode mode) {
    return read(Query.newBuilder().setDescribeTopic(DescribeTopicQuery.newBuilder().setTopic(topic)).build(),
        mode, QueryResult::getTopic);
  }

  public CompletableFuture<TopicView> describeTopic(String topic) {
    return describeTopic(topic, ReadMode.linearizable());
  }

  // ------------------------------------------------------------------ groups and checkpoints

  /** Creates a group with the defaults (order=false, session 10 s, start from BEGIN). */
  public CompletableFuture<Void> createGroup(String group, String... topics) {
    return createGroup(CreateGroup.newBuilder().setGroup(group).addAllTopics(List.of(topics))
        .setStartFrom(StartFrom.BEGIN).build());
  }

  public CompletableFuture<Void> createGroup(CreateGroup spec) {
    return command(Command.newBuilder().setCreateGroup(spec).build(), CohortClient::none);
  }

  public CompletableFuture<Void> updateGroup(UpdateGroup update) {
    return command(Command.newBuilder().setUpdateGroup(update).build(), CohortClient::none);
  }

  public CompletableFuture<Void> deleteGroup(String group, boolean force) {
    return command(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup(group)
        .setForce(force)).build(), CohortClient::none);
  }

  /** Live reset (R3): bumps the partition's epoch; its holder restarts from {@code cursor}. */
  public CompletableFuture<Void> resetCheckpoint(String group, String topic, int partition, String cursor) {
    return command(Command.newBuilder().setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(group)
        .setTopic(topic).setPartition(partition).setCursor(cursor)).build(), CohortClient::none);
  }

  /**
   * Offset management (step 7): resets or deletes many checkpoints of one group in one replicated
   * command, all or none; every holder is fenced (R3). Returns the partitions' new epochs in order.
   */
  public CompletableFuture<List<Long>> resetCheckpoints(ResetCheckpoints reset) {
    return command(Command.newBuilder().setResetCheckpoints(reset).build(),
        r -> r.getReset().getEpochsList());
  }

  /** R9: changes the cluster's replicated limits; unset fields keep their values. */
  public CompletableFuture<Void> setLimits(LimitsRecord limits) {
    return command(Command.newBuilder().setSetLimits(SetLimits.newBuilder().setLimits(limits)).build(),
        CohortClient::none);
  }

  /** The replicated limits and what counts against them. */
  public CompletableFuture<ClusterInfoView> clusterInfo(ReadMode mode) {
    return read(Query.newBuilder().setClusterInfo(ClusterInfoQuery.getDefaultInstance()).build(), mode,
        QueryResult::getClusterInfo);
  }

  public CompletableFuture<List<GroupSummary>> listGroups(ReadMode mode) {
    return read(Query.newBuilder().setListGroups(ListGroups.getDefaultInstance()).build(), mode,
        r -> r.getGroups().getGroupsList());
  }

  public CompletableFuture<List<GroupSummary>> listGroups() {
    return listGroups(ReadMode.linearizable());
  }

  public CompletableFuture<GroupView> describeGroup(String group, ReadMode mode) {
    return read(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(group)).build(),
        mode, QueryResult::getGroup);
  }

  public CompletableFuture<GroupView> describeGroup(String group) {
    return describeGroup(group, ReadMode.linearizable());
  }

  public CompletableFuture<CheckpointList> listCheckpoints(String group, ReadMode mode) {
    return read(Query.newBuilder().setListCheckpoints(ListCheckpoints.newBuilder().setGroup(group)).build(),
        mode, QueryResult::getCheckpoints);
  }

  public CompletableFuture<CheckpointList> listCheckpoints(String group) {
    return listCheckpoints(group, ReadMode.linearizable());
  }

  /** The replica's applied index and state hash; compare replicas with stale reads per peer. */
  public CompletableFuture<DigestView> stateDigest(ReadMode mode) {
    return read(Query.newBuilder().setStateDigest(StateDigest.getDefaultInstance()).build(), mode,
        QueryResult::getDigest);
  }

  // ------------------------------------------------------------------ consumer calls

  /**
   * Joins (session 0) or renews a member (R1). Rejections (FENCED: the session was replaced;
   * UNKNOWN_MEMBER: expired or left, join again) fail with {@link CohortRejectedException}.
   */
  @Override
  public CompletableFuture<HeartbeatResult> heartbeat(Heartbeat heartbeat) {
    return command(Command.newBuilder().setHeartbeat(heartbeat).build(), Result::getHeartbeat);
  }

  /** Commits checkpoints (R3); the result has one code per entry (FENCED entries changed nothing). */
  @Override
  public CompletableFuture<CommitResult> commit(CommitCheckpoints commit) {
    return command(Command.newBuilder().setCommitCheckpoints(commit).build(), Result::getCommit);
  }

  /** Leaves at once, applying the final checkpoints first; the result has one code per entry. */
  @Override
  public CompletableFuture<CommitResult> leave(Leave leave) {
    return command(Command.newBuilder().setLeave(leave).build(), Result::getCommit);
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
    } catch (java.io.IOException e) {
      throw new CohortException("closing the Ratis client failed", e);
    }
  }

  @Override
  public String toString() {
    return "CohortClient{" + config.peers() + ", group " + config.groupId() + "}";
  }
}
