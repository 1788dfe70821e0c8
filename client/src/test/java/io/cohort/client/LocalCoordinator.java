package io.cohort.client;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Tick;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The coordinator core in process, as a consumer's transport: no Raft, wall-clock time, answers on
 * another thread like a network would. It records every command, and can be made unreachable.
 */
final class LocalCoordinator implements ConsumerTransport, AutoCloseable {
  private final Coordinator coordinator = new Coordinator(Limits.DEFAULTS);
  private final ExecutorService replies = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "local-coordinator");
    t.setDaemon(true);
    return t;
  });
  private long index;
  final List<Command> log = new CopyOnWriteArrayList<>();
  volatile boolean unreachable;

  synchronized Result apply(Command c) {
    log.add(c);
    index++;
    // the leader's stamp: time, the internal principal, and a fresh random token for a join (R11)
    byte[] token = new byte[io.cohort.statemachine.Stamp.TOKEN_BYTES];
    java.util.concurrent.ThreadLocalRandom.current().nextBytes(token);
    return coordinator.apply(c, index, 1, new io.cohort.statemachine.Stamp(System.currentTimeMillis(),
        io.cohort.statemachine.Principals.INTERNAL, com.google.protobuf.ByteString.copyFrom(token)));
  }

  void createTopic(String topic, int partitions) {
    check(apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(topic)
        .setPartitions(partitions)).build()));
  }

  void createGroup(String group, String topic, long sessionTimeoutMs, long heartbeatMs) {
    check(apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic)
        .setSessionTimeoutMs(sessionTimeoutMs).setHeartbeatIntervalMs(heartbeatMs)).build()));
  }

  /** A tick carrying the renewals of the quiet heartbeats answered since the last one (step 11). */
  synchronized void tick() {
    apply(Command.newBuilder().setTick(Tick.newBuilder().addAllRenewals(renewals.values())).build());
    renewals.clear();
  }

  /** Quiet heartbeats answered (any code), as the leader does: off the log, liveness kept for the next tick. */
  final List<Heartbeat> quietLog = new CopyOnWriteArrayList<>();
  private final java.util.Map<String, io.cohort.statemachine.proto.Renewal> renewals = new java.util.LinkedHashMap<>();

  @Override
  public CompletableFuture<HeartbeatResult> quietHeartbeat(Heartbeat heartbeat, long sessionTimeoutMs) {
    return CompletableFuture.supplyAsync(() -> {
      if (unreachable) {
        throw new CohortUnavailableException("unreachable (test)", null);
      }
      Result r;
      synchronized (this) {
        quietLog.add(heartbeat);
        long now = System.currentTimeMillis();
        r = coordinator.quietHeartbeat(heartbeat, io.cohort.statemachine.Principals.INTERNAL, now);
        // as the leader (OffLogLiveness): an OK answer renews; so does NEEDS_WRITE while the session is live
        if (r.getCode() == Code.OK || r.getCode() == Code.NEEDS_WRITE && coordinator.sessionLive(heartbeat, now)) {
          renewals.put(heartbeat.getGroup() + "/" + heartbeat.getConsumerId(), io.cohort.statemachine.proto.Renewal
              .newBuilder().setGroup(heartbeat.getGroup()).setConsumerId(heartbeat.getConsumerId())
              .setSessionToken(heartbeat.getSessionToken()).setSeenAtMs(now)
              .setSessionTimeoutMs(r.getCode() == Code.OK ? r.getHeartbeat().getSessionTimeoutMs() : 0).build());
        }
      }
      if (r.getCode() != Code.OK) {
        throw new CohortRejectedException(r.getCode(), r.getMessage());
      }
      return r.getHeartbeat();
    }, replies);
  }

  synchronized int members(String group) {
    return coordinator.query(io.cohort.statemachine.proto.Query.newBuilder().setDescribeGroup(
        io.cohort.statemachine.proto.DescribeGroupQuery.newBuilder().setGroup(group)).build(), io.cohort.statemachine.Principals.INTERNAL)
        .getGroup().getMembersCount();
  }

  /** The checkpoint cursor of a partition, or null when it has none. */
  synchronized String checkpoint(String group, String topic, int partition) {
    return coordinator.query(io.cohort.statemachine.proto.Query.newBuilder().setListCheckpoints(
        io.cohort.statemachine.proto.ListCheckpoints.newBuilder().setGroup(group)).build(),
        io.cohort.statemachine.Principals.INTERNAL)
        .getCheckpoints().getCheckpointsList().stream()
        .filter(c -> c.getTopic().equals(topic) && c.getPartition() == partition)
        .map(io.cohort.statemachine.proto.CheckpointView::getCursor).findFirst().orElse(null);
  }

  /** A partition as `group describe` shows it, stalls judged with {@code stallAfterMs}. */
  synchronized io.cohort.statemachine.proto.GroupPartitionView partition(String group, String topic, int partition,
      long stallAfterMs) {
    return coordinator.query(io.cohort.statemachine.proto.Query.newBuilder().setDescribeGroup(
        io.cohort.statemachine.proto.DescribeGroupQuery.newBuilder().setGroup(group).setStallAfterMs(stallAfterMs))
        .build(), io.cohort.statemachine.Principals.INTERNAL).getGroup().getPartitionsList().stream()
        .filter(p -> p.getTopic().equals(topic) && p.getPartition() == partition).findFirst().orElseThrow();
  }

  /** An admin's live reset (R3). */
  void reset(String group, String topic, int partition, String cursor) {
    check(apply(Command.newBuilder().setResetCheckpoint(io.cohort.statemachine.proto.ResetCheckpoint.newBuilder()
        .setGroup(group).setTopic(topic).setPartition(partition).setCursor(cursor)).build()));
  }

  long count(Command.BodyCase kind) {
    return log.stream().filter(c -> c.getBodyCase() == kind).count();
  }

  private static Result check(Result r) {
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException(r.getCode() + ": " + r.getMessage());
    }
    return r;
  }

  private CompletableFuture<Result> send(Command c) {
    return CompletableFuture.supplyAsync(() -> {
      if (unreachable) {
        throw new CohortUnavailableException("unreachable (test)", null);
      }
      Result r = apply(c);
      if (r.getCode() != Code.OK) {
        throw new CohortRejectedException(r.getCode(), r.getMessage());
      }
      return r;
    }, replies);
  }

  @Override
  public CompletableFuture<HeartbeatResult> heartbeat(Heartbeat heartbeat) {
    return send(Command.newBuilder().setHeartbeat(heartbeat).build()).thenApply(Result::getHeartbeat);
  }

  @Override
  public CompletableFuture<CommitResult> commit(CommitCheckpoints commit) {
    return send(Command.newBuilder().setCommitCheckpoints(commit).build()).thenApply(Result::getCommit);
  }

  @Override
  public CompletableFuture<CommitResult> leave(Leave leave) {
    return send(Command.newBuilder().setLeave(leave).build()).thenApply(Result::getCommit);
  }

  @Override
  public CompletableFuture<io.cohort.statemachine.proto.LimitsRecord> limits() {
    return CompletableFuture.supplyAsync(() -> {
      synchronized (this) {
        return coordinator.limits().toRecord();
      }
    }, replies);
  }

  @Override
  public void close() {
    replies.shutdownNow();
  }
}
