package io.cohort.client;

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
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Talks to a Cohort cluster: admin calls, queries, and the consumer calls (heartbeat, commit,
 * leave). Async first: every call returns a {@link CompletableFuture} that completes with the
 * answer or exceptionally with a {@link CohortException} ({@link CohortRejectedException} carrying
 * the state machine's code, {@link CohortUnavailableException} when the cluster did not answer
 * within the configured budget, {@link CohortClosedException}). {@link #blocking()} offers the same
 * calls as blocking methods.
 *
 * <p>This class is the typed API (commands and queries); {@link RatisChannel} carries the bytes:
 * one Ratis {@code RaftClient} at a time, so retries of a write reuse its client id and call id and
 * the servers' retry cache applies it at most once. It follows the leader by itself. A refusal
 * (any code but OK) is final for its request: nothing here retries it. Thread safe; share one
 * instance per process and close it when done.
 */
public final class CohortClient implements AutoCloseable, ConsumerTransport {
  /** How long a quiet heartbeat that found no leader waits to be asked again: about one election (250-400 ms) and its first entry. */
  static final long NO_LEADER_RETRY_MS = 500;

  private final CohortClientConfig config;
  private final RatisChannel channel;
  private final BlockingCohortClient blocking;
  private WatchChannel watches;

  private CohortClient(CohortClientConfig config) {
    this.config = config;
    this.channel = new RatisChannel(config);
    this.blocking = new BlockingCohortClient(this);
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

  RatisChannel channel() {
    return channel;
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
    return channel.write(command, what, Result::parseFrom);
  }

  /**
   * Runs a query and returns its {@link QueryResult} whatever its code.
   *
   * @throws IllegalArgumentException if a stale read names a peer that is not in the peers list
   */
  public CompletableFuture<QueryResult> query(Query query, ReadMode mode) {
    String what = "query " + query.getBodyCase();
    if (mode.isStale()) {
      return channel.read(query.toByteArray(), mode, what, QueryResult::parseFrom);
    }
    return linearizable(query.toByteArray(), what, System.nanoTime() + config.callTimeout().toNanos());
  }

  /**
   * R10: a leader cut off from its followers refuses linearizable reads with RETRY_LATER (its state
   * may be stale); asked again after its retry-after until the call's deadline, by when it has
   * stepped down and Ratis sends the read to the new leader. The last refusal is returned as is.
   */
  private CompletableFuture<QueryResult> linearizable(byte[] bytes, String what, long deadlineNanos) {
    return channel.read(bytes, ReadMode.linearizable(), what, QueryResult::parseFrom).thenCompose(r -> {
      if (r.getCode() != Code.RETRY_LATER) {
        return CompletableFuture.completedFuture(r);
      }
      long waitMs = CohortRejectedException.retryAfterMs(r.getMessage(), 100);
      if (System.nanoTime() + waitMs * 1_000_000 > deadlineNanos) {
        return CompletableFuture.completedFuture(r);
      }
      return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(waitMs, TimeUnit.MILLISECONDS))
          .thenCompose(x -> linearizable(bytes, what, deadlineNanos));
    });
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

  // ------------------------------------------------------------------ access control (R11)

  /**
   * Gives {@code principal} (a certificate's CN) a role; a consumer also gets {@code groups}
   * (names, prefixes ending in '*', or "*"), added to those it had. Admin only.
   */
  public CompletableFuture<Void> grantAccess(String principal, io.cohort.statemachine.proto.Role role,
      List<String> groups) {
    return command(Command.newBuilder().setGrantAccess(io.cohort.statemachine.proto.GrantAccess.newBuilder()
        .setPrincipal(principal).setRole(role).addAllGroups(groups)).build(), CohortClient::none);
  }

  /** Takes {@code groups} from a consumer, or with none every right of {@code principal}. Admin only. */
  public CompletableFuture<Void> revokeAccess(String principal, List<String> groups) {
    return command(Command.newBuilder().setRevokeAccess(io.cohort.statemachine.proto.RevokeAccess.newBuilder()
        .setPrincipal(principal).addAllGroups(groups)).build(), CohortClient::none);
  }

  /** The ACL as the caller may see it: all of it for admins and readers, its own entry otherwise. */
  public CompletableFuture<io.cohort.statemachine.proto.AccessList> listAccess(ReadMode mode) {
    return read(Query.newBuilder().setListAccess(io.cohort.statemachine.proto.ListAccess.getDefaultInstance())
        .build(), mode, QueryResult::getAccess);
  }

  /**
   * The per-request limits a consumer's commands must respect (R9), from a linearizable
   * {@link #clusterInfo} read.
   */
  @Override
  public CompletableFuture<LimitsRecord> limits() {
    return clusterInfo(ReadMode.linearizable()).thenApply(ClusterInfoView::getLimits);
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

  /** With the query's options, e.g. the stall threshold partitions are judged by (step 9). */
  public CompletableFuture<GroupView> describeGroup(DescribeGroupQuery query, ReadMode mode) {
    return read(Query.newBuilder().setDescribeGroup(query).build(), mode, QueryResult::getGroup);
  }

  /** With the query's options, e.g. the stall threshold partitions are judged by (step 9). */
  public CompletableFuture<CheckpointList> listCheckpoints(ListCheckpoints query, ReadMode mode) {
    return read(Query.newBuilder().setListCheckpoints(query).build(), mode, QueryResult::getCheckpoints);
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

  /**
   * Step 11: a heartbeat that would change nothing but the session's liveness, answered by the
   * leader from its state without a log entry. It goes on this client's stream of quiet heartbeats
   * to the peer last seen leading, else the one the Raft client takes for the leader (Cohort's own
   * service: no ReadIndex round, none of the Ratis client protocol's per-request work); a follower
   * that names the leader sends it there, and on while each names another (at most one send per
   * peer in the list: leadership that changes hands twice in a row, as after a stall, does not send
   * it to the log); a node that knows no leader sends it to the next peer in the list, within the
   * same bound. Fails with {@link CohortRejectedException}
   * NEEDS_WRITE when it must be sent with {@link #heartbeat} instead (also when no leader is known
   * yet: the replicated heartbeat finds the leader),
   * RETRY_LATER when a saturated leader shed it, the leader cannot answer yet, or no peer asked leads
   * (leadership is changing hands: wait its retry-after), or with the refusal the heartbeat would get (FENCED, UNKNOWN_MEMBER, ...).
   * Completes on the gRPC transport thread that read the answer: what depends on it must not block,
   * or every answer and watch on that connection waits (hand blocking work to an executor, as
   * {@link GroupConsumer} does).
   */
  public CompletableFuture<HeartbeatResult> quietHeartbeat(Heartbeat heartbeat) {
    return quietHeartbeat(heartbeat, 0);
  }

  /**
   * As {@link #quietHeartbeat(Heartbeat)}, for a member whose session timeout is {@code
   * sessionTimeoutMs} (0: not known). The call waits at most the shorter of that and the attempt
   * timeout, and while the node it waits on stays silent, every third of that wait it asks the
   * next other peer too; the first answer from a node that leads is the call's. A leader stalled
   * (paused, swapping, a full GC) keeps its connections open: without this, every member whose
   * heartbeat waited on it lost its session to the leader elected meanwhile (docs/BENCHMARKS.md).
   * Safe for R2: an OK answer counts from when the call was sent, whichever node gave it, and a
   * deposed leader's late answer is not taken once another answered.
   */
  @Override
  public CompletableFuture<HeartbeatResult> quietHeartbeat(Heartbeat heartbeat, long sessionTimeoutMs) {
    RaftPeerId leader = channel.leader();
    if (leader == null) {
      return CompletableFuture.failedFuture(new CohortRejectedException(Code.NEEDS_WRITE, "no leader known yet"));
    }
    long attemptMs = config.attemptTimeout().toMillis();
    long waitMs = sessionTimeoutMs > 0 ? Math.min(attemptMs, sessionTimeoutMs) : attemptMs;
    QuietCall call = new QuietCall(heartbeat, waitMs);
    quietOn(leader.toString(), heartbeat, followsLeft(), waitMs, null, call::askElsewhere).whenComplete((r, e) -> {
      if (e == null) {
        call.answer.complete(r);
      } else {
        call.answer.completeExceptionally(e);
      }
    });
    return call.answer;
  }

  /** One quiet heartbeat's answer, and which peer it asked last while the node it waited on was silent. */
  private final class QuietCall {
    final Heartbeat heartbeat;
    final long waitMs;
    final CompletableFuture<HeartbeatResult> answer = new CompletableFuture<>();
    private String askedLast;
    private int unreachable; // peers asked that could not be reached (gone, or not up)

    QuietCall(Heartbeat heartbeat, long waitMs) {
      this.heartbeat = heartbeat;
      this.waitMs = waitMs;
    }

    /** {@code silent} has not answered yet: asks the next peer after the one asked last, never {@code silent}. */
    synchronized void askElsewhere(String silent) {
      if (answer.isDone()) {
        return;
      }
      String next = peerAfter(askedLast != null ? askedLast : silent, silent);
      if (next == null) {
        return; // one peer: nobody else to ask
      }
      askedLast = next;
      quietOn(next, heartbeat, followsLeft(), waitMs, silent, null).whenComplete((r, e) -> {
        if (e == null) {
          answer.complete(r);
        } else if (Failures.unwrap(e) instanceof CohortRejectedException rejected) {
          if (rejected != NO_NEWS) {
            answer.completeExceptionally(rejected); // a leader's refusal: FENCED, NEEDS_WRITE, shed, ...
          } // else nothing learned (no leader elsewhere, or it names the silent one): the call waits on
        } else if (tryNextAtOnce()) {
          askElsewhere(silent); // not reached (a replaced node's old address): the next peer now, not in a third
        }
      });
    }

    private synchronized boolean tryNextAtOnce() {
      return ++unreachable < channel.members().list().size();
    }
  }

  /** What asking elsewhere gives when the peer asked knows no other leader than the silent one. */
  private static final CohortRejectedException NO_NEWS = new CohortRejectedException(Code.RETRY_LATER,
      "no other leader known");

  /** Off-log calls go to {@code peer} until a reply shows another leader (tests: a Raft client's wrong guess). */
  void takeForLeader(String peer) {
    channel.sawLeader(RaftPeerId.valueOf(peer));
  }

  /** A reply's commit infos name the members (tests: a node added since the client started). */
  void learnMembers(org.apache.ratis.protocol.RaftClientReply reply) {
    channel.learnMembers(reply);
  }

  /** The peer off-log calls go to now, or null (tests). */
  String offLogPeer() {
    RaftPeerId leader = channel.leader();
    return leader == null ? null : leader.toString();
  }

  /**
   * How many times one off-log call follows a named leader: once per other peer. Once was not
   * enough after a leader stall: a follower named the leader it knew, that one had lost the next
   * election, and 5,041 of 8,500 heartbeats went to the log at once (docs/BENCHMARKS.md).
   */
  private int followsLeft() {
    return Math.max(1, channel.members().list().size() - 1);
  }

  /** As {@link #peerAfter(String)}, passing over {@code skip} (null: none); null when no other peer is left. */
  private String peerAfter(String peer, String skip) {
    String next = peerAfter(peer);
    if (next != null && next.equals(skip)) {
      next = peerAfter(next);
    }
    return next == null || next.equals(skip) ? null : next;
  }

  /**
   * The peer after {@code peer} in the list (round), or null with one peer. Asked when a node knows
   * no leader: in a run of elections on a starved machine, each node that knew none sent its
   * heartbeats to the log, and 5,454 replicated heartbeats waiting 14 s at once lost 4,851
   * sessions (docs/BENCHMARKS.md); and a node cut off from the others knows none for good.
   */
  private String peerAfter(String peer) {
    List<Peers.Peer> list = channel.members().list();
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).id().equals(peer)) {
        return list.size() > 1 ? list.get((i + 1) % list.size()).id() : null;
      }
    }
    return list.isEmpty() ? null : list.get(0).id();
  }

  /**
   * Sends it to {@code peer}; a follower that names the leader sends it there, one that knows none
   * to the next peer ({@code follows} times at most).
   */
  private CompletableFuture<HeartbeatResult> quietOn(String peer, Heartbeat heartbeat, int follows, long waitMs,
      String silent, java.util.function.Consumer<String> whileSilent) {
    return watchChannel().quietHeartbeat(peer, heartbeat, waitMs, waitMs / 3,
            whileSilent == null ? null : () -> whileSilent.accept(peer))
        .handle((a, e) -> {
          if (e != null) {
            throw Failures.map(e, "quiet heartbeat");
          }
          return a;
        })
        .thenCompose(a -> {
          QueryResult r = a.getResult();
          boolean notLeading = false;
          if (!a.getLeader().isEmpty() && !a.getLeader().equals(peer)) {
            if (a.getLeader().equals(silent)) {
              return CompletableFuture.failedFuture(NO_NEWS);
            }
            channel.sawLeader(RaftPeerId.valueOf(a.getLeader()));
            if (follows > 0) {
              return quietOn(a.getLeader(), heartbeat, follows - 1, waitMs, silent, whileSilent);
            }
            notLeading = true;
          } else if (a.getNotLeader()) {
            String next = peerAfter(peer, silent);
            if (follows > 0 && next != null && !next.equals(peer)) {
              // it knows no leader: another peer may lead
              return quietOn(next, heartbeat, follows - 1, waitMs, silent, whileSilent);
            }
            notLeading = true;
          } else if (r.getCode() != Code.NEEDS_WRITE) {
            channel.sawLeader(RaftPeerId.valueOf(peer)); // only a leader answers other than NEEDS_WRITE
          }
          if (notLeading && r.getCode() == Code.NEEDS_WRITE && silent != null) {
            return CompletableFuture.failedFuture(NO_NEWS);
          }
          if (notLeading && r.getCode() == Code.NEEDS_WRITE) {
            // No peer asked leads: leadership is changing hands. A replicated heartbeat would wait for the
            // same next leader, and thousands sent at once reach it as a backlog its quiet answers wait
            // behind (R2): after five elections in 10 s, 6,915 fall-backs were answered up to 14.5 s late
            // (docs/BENCHMARKS.md). Asked again after about one election, it is answered off the log.
            return CompletableFuture.failedFuture(new CohortRejectedException(Code.RETRY_LATER,
                "retry after " + NO_LEADER_RETRY_MS + " ms: " + CohortRejectedException.NO_LEADER + " (" + r.getMessage() + ")"));
          }
          if (r.getCode() != Code.OK) {
            return CompletableFuture.failedFuture(new CohortRejectedException(r.getCode(), r.getMessage()));
          }
          return CompletableFuture.completedFuture(r.getHeartbeat());
        });
  }

  /**
   * R12: one watch on the peer last seen leading (else the Raft client's leader), for a consumer that keeps its
   * own session instead of a {@link GroupConsumer}. It completes when the member's assignment view
   * differs from the request's known view ({@code AssignmentView.of} the last heartbeat result), or
   * the session or group is gone (a code other than OK), or unchanged at the request's timeout. A
   * hint only: heartbeat to learn what changed. Cancelling the future gives the watch up. Fails with
   * {@link CohortUnavailableException} when no leader is known, none of the peers it was sent on to
   * (the leaders named, or the next peer after one that knows none) leads, or no answer came (place it again after the next heartbeat answer);
   * PERMISSION_DENIED as a rejection.
   */
  public CompletableFuture<WatchResult> watch(WatchRequest request) {
    RaftPeerId leader = channel.leader();
    if (leader == null) {
      return CompletableFuture.failedFuture(new CohortUnavailableException("watch: no leader known yet", null));
    }
    CompletableFuture<WatchResult> out = new CompletableFuture<>();
    AtomicReference<Runnable> cancel = new AtomicReference<>();
    watchOn(leader.toString(), request, out, cancel, followsLeft());
    out.whenComplete((r, e) -> {
      if (out.isCancelled()) {
        cancel.get().run();
      }
    });
    return out;
  }

  /**
   * Places the watch on {@code peer}; a follower that names the leader sends it there, one that
   * knows none to the next peer ({@code follows} times at most, as {@link #quietOn}).
   */
  private void watchOn(String peer, WatchRequest request, CompletableFuture<WatchResult> out,
      AtomicReference<Runnable> cancel, int follows) {
    WatchChannel.Call call = watchChannel().watch(peer, request, Watcher.SLACK_MS);
    cancel.set(call.cancel());
    if (out.isCancelled()) {
      call.cancel().run(); // given up while it moved to the leader
    }
    call.result().whenComplete((r, e) -> {
      if (e == null) {
        channel.sawLeader(RaftPeerId.valueOf(peer)); // only the leader answers a watch
        out.complete(r);
        return;
      }
      if (Failures.unwrap(e) instanceof WatchChannel.NotLeader nl) {
        if (nl.leader != null && !nl.leader.equals(peer)) {
          channel.sawLeader(RaftPeerId.valueOf(nl.leader));
          if (follows > 0 && !out.isDone()) {
            watchOn(nl.leader, request, out, cancel, follows - 1);
            return;
          }
        } else if (nl.leader == null) {
          // It knows no leader (stepped down, or cut off): another peer may lead. Failing here left
          // the consumer without a watch until its next heartbeat answer, in every election.
          String next = peerAfter(peer);
          if (follows > 0 && next != null && !out.isDone()) {
            watchOn(next, request, out, cancel, follows - 1);
            return;
          }
        }
      }
      CohortException mapped = Failures.map(e, "watch");
      out.completeExceptionally(mapped instanceof CohortRejectedException ? mapped
          : new CohortUnavailableException("watch on " + peer + ": " + mapped.getMessage(), e));
    });
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

  /** R12: opened when the first consumer watches; its channels close with this client. */
  @Override
  public WatchChannel watchChannel() {
    synchronized (this) {
      if (watches == null) {
        watches = new WatchChannel(channel::members, channel.tls(), this::offLogPeer);
      }
      return watches;
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (watches != null) {
        watches.close();
      }
    }
    channel.close();
  }

  @Override
  public String toString() {
    return "CohortClient{" + config.peers() + ", group " + config.groupId() + "}";
  }
}
