package io.cohort.client;

import io.cohort.statemachine.proto.CheckpointList;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.TopicView;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Blocking versions of {@link CohortClient}'s calls. Each waits for the future (whose time is
 * bounded by the client's call timeout) and throws the typed {@link CohortException}.
 */
public final class BlockingCohortClient {
  private final CohortClient async;

  BlockingCohortClient(CohortClient async) {
    this.async = async;
  }

  /** Waits for a future from a {@link CohortClient} call, unwrapping its typed failure. */
  public static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CohortUnavailableException("interrupted while waiting for the cluster", e);
    } catch (ExecutionException e) {
      throw Failures.map(e, "call");
    }
  }

  public Result execute(Command command) {
    return await(async.execute(command));
  }

  public QueryResult query(Query query, ReadMode mode) {
    return await(async.query(query, mode));
  }

  public TopicView createTopic(String topic, int partitions) {
    return await(async.createTopic(topic, partitions));
  }

  public void deleteTopic(String topic) {
    await(async.deleteTopic(topic));
  }

  public List<Integer> split(String topic, int partition) {
    return await(async.split(topic, partition));
  }

  public List<Integer> split(SplitPartition split) {
    return await(async.split(split));
  }

  public int merge(String topic, int partition1, int partition2) {
    return await(async.merge(topic, partition1, partition2));
  }

  public void setWeight(String topic, int partition, double weight) {
    await(async.setWeight(topic, partition, weight));
  }

  public List<TopicView> listTopics() {
    return await(async.listTopics());
  }

  public TopicView describeTopic(String topic) {
    return await(async.describeTopic(topic));
  }

  public TopicView describeTopic(String topic, ReadMode mode) {
    return await(async.describeTopic(topic, mode));
  }

  public void createGroup(String group, String... topics) {
    await(async.createGroup(group, topics));
  }

  public void createGroup(CreateGroup spec) {
    await(async.createGroup(spec));
  }

  public void updateGroup(UpdateGroup update) {
    await(async.updateGroup(update));
  }

  public void deleteGroup(String group, boolean force) {
    await(async.deleteGroup(group, force));
  }

  public void resetCheckpoint(String group, String topic, int partition, String cursor) {
    await(async.resetCheckpoint(group, topic, partition, cursor));
  }

  public List<Long> resetCheckpoints(io.cohort.statemachine.proto.ResetCheckpoints reset) {
    return await(async.resetCheckpoints(reset));
  }

  public void setLimits(io.cohort.statemachine.proto.LimitsRecord limits) {
    await(async.setLimits(limits));
  }

  public void grantAccess(String principal, io.cohort.statemachine.proto.Role role, List<String> groups) {
    await(async.grantAccess(principal, role, groups));
  }

  public void revokeAccess(String principal, List<String> groups) {
    await(async.revokeAccess(principal, groups));
  }

  public io.cohort.statemachine.proto.AccessList listAccess(ReadMode mode) {
    return await(async.listAccess(mode));
  }

  public io.cohort.statemachine.proto.ClusterInfoView clusterInfo(ReadMode mode) {
    return await(async.clusterInfo(mode));
  }

  public List<GroupSummary> listGroups() {
    return await(async.listGroups());
  }

  public GroupView describeGroup(String group) {
    return await(async.describeGroup(group));
  }

  public GroupView describeGroup(String group, ReadMode mode) {
    return await(async.describeGroup(group, mode));
  }

  public CheckpointList listCheckpoints(String group) {
    return await(async.listCheckpoints(group));
  }

  public CheckpointList listCheckpoints(String group, ReadMode mode) {
    return await(async.listCheckpoints(group, mode));
  }

  public DigestView stateDigest(ReadMode mode) {
    return await(async.stateDigest(mode));
  }

  public HeartbeatResult heartbeat(Heartbeat heartbeat) {
    return await(async.heartbeat(heartbeat));
  }

  public CommitResult commit(CommitCheckpoints commit) {
    return await(async.commit(commit));
  }

  public CommitResult leave(Leave leave) {
    return await(async.leave(leave));
  }
}
