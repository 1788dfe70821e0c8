package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.ReaderError;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.Tick;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Drives a {@link Coordinator} the way the Raft server and well-behaved consumers would: every
 * command gets the next index, the current term and the test's clock. Simulated consumers remember
 * their session and what they hold, and obey releases on their next heartbeat.
 */
final class CoordinatorTestContext {
  final Coordinator coordinator;
  long index;
  long term = 1;
  long nowMs = 1_000_000;
  /** "group/consumer" -> the consumer's view. */
  final Map<String, ConsumerView> consumers = new TreeMap<>();

  static final class ConsumerView {
    com.google.protobuf.ByteString session = com.google.protobuf.ByteString.EMPTY;
    /** "topic/partition" -> grant as last told. */
    final Map<String, Grant> held = new TreeMap<>();
    HeartbeatResult last;
  }

  CoordinatorTestContext() {
    this(Limits.DEFAULTS);
  }

  CoordinatorTestContext(Limits limits) {
    this.coordinator = new Coordinator(limits);
  }

  /** A context continuing from a rebuilt state (consumer views are not carried over). */
  CoordinatorTestContext(Coordinator coordinator, long term, long nowMs) {
    this.coordinator = coordinator;
    this.index = coordinator.appliedIndex();
    this.term = term;
    this.nowMs = nowMs;
  }

  // ------------------------------------------------------------------ builders

  CoordinatorTestContext withTopic(String topic, int partitions) {
    ok(apply(Command.newBuilder().setCreateTopic(
        CreateTopic.newBuilder().setTopic(topic).setPartitions(partitions))));
    return this;
  }

  CoordinatorTestContext withGroup(String group, String... topics) {
    ok(apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group)
        .addAllTopics(List.of(topics)))));
    return this;
  }

  CoordinatorTestContext withOrderedGroup(String group, String... topics) {
    ok(apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group)
        .addAllTopics(List.of(topics)).setOrder(true))));
    return this;
  }

  CoordinatorTestContext withGroup(CreateGroup.Builder group) {
    ok(apply(Command.newBuilder().setCreateGroup(group)));
    return this;
  }

  /** Joins the member and heartbeats everyone until nothing moves. */
  CoordinatorTestContext withMember(String group, String consumer) {
    heartbeat(group, consumer);
    settle(group);
    return this;
  }

  // ------------------------------------------------------------------ commands

  /** The principal the next commands come from; the internal one (admin rights) unless a test says. */
  String principal = Principals.INTERNAL;

  Result apply(Command.Builder command) {
    index++;
    return coordinator.apply(command.build(), index, term, TestStamps.as(principal, nowMs, index));
  }

  /** Runs the next commands as {@code p} (R11). */
  CoordinatorTestContext as(String p) {
    principal = p;
    return this;
  }

  static Result ok(Result r) {
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r;
  }

  ConsumerView consumer(String group, String consumer) {
    return consumers.computeIfAbsent(group + "/" + consumer, k -> new ConsumerView());
  }

  /** A heartbeat as the consumer runtime sends it: what it holds now, releases obeyed. */
  HeartbeatResult heartbeat(String group, String consumer, CheckpointEntry... commits) {
    Result r = heartbeatResult(group, consumer, commits);
    ok(r);
    return r.getHeartbeat();
  }

  Result heartbeatResult(String group, String consumer, CheckpointEntry... commits) {
    return heartbeatResult(consumer(group, consumer), group, consumer, commits);
  }

  /**
   * A second process with the consumer id of an existing one (static membership): it joins with no
   * session, and from then on is the context's view of that consumer; the returned view is the
   * old process's, which keeps its session and grants.
   */
  ConsumerView restart(String group, String consumer) {
    ConsumerView old = consumers.remove(group + "/" + consumer);
    heartbeat(group, consumer);
    return old;
  }

  /** A heartbeat as the given process (see {@link #restart}) sends it. */
  Result heartbeatResult(ConsumerView view, String group, String consumer, CheckpointEntry... commits) {
    return heartbeatResult(view, group, consumer, List.of(), commits);
  }

  /** A heartbeat that also reports reader errors (step 9). */
  HeartbeatResult heartbeatReporting(String group, String consumer, List<ReaderError> errors,
      CheckpointEntry... commits) {
    Result r = heartbeatResult(consumer(group, consumer), group, consumer, errors, commits);
    ok(r);
    return r.getHeartbeat();
  }

  /** The consumer reports that its reader of topic/partition failed (under the grant it was told). */
  HeartbeatResult reportError(String group, String consumer, String topic, int partition, String message,
      boolean skipped) {
    Grant g = grant(group, consumer, topic, partition);
    return heartbeatReporting(group, consumer, List.of(error(topic, partition, g.getEpoch(), message, 1, skipped)));
  }

  static ReaderError error(String topic, int partition, long epoch, String message, int attempts, boolean skipped) {
    return ReaderError.newBuilder().setTopic(topic).setPartition(partition).setEpoch(epoch).setMessage(message)
        .setAttempts(attempts).setSkipped(skipped).build();
  }

  Result heartbeatResult(ConsumerView view, String group, String consumer, List<ReaderError> errors,
      CheckpointEntry... commits) {
    Heartbeat.Builder hb = heartbeatOf(view, group, consumer).addAllCommits(List.of(commits)).addAllErrors(errors);
    return observed(view, apply(Command.newBuilder().setHeartbeat(hb)));
  }

  /** The consumer's next heartbeat sent quietly (step 11): the leader's answer off the log at {@code nowMs}. */
  Result quietHeartbeat(String group, String consumer) {
    ConsumerView view = consumer(group, consumer);
    return observed(view, coordinator.quietHeartbeat(heartbeatOf(view, group, consumer).build(), Principals.INTERNAL,
        nowMs));
  }

  /** What the process knows: its session, and every grant it was told and has not let go. */
  private static Heartbeat.Builder heartbeatOf(ConsumerView view, String group, String consumer) {
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer).setSessionToken(view.session);
    for (Grant g : view.held.values()) {
      hb.addHeld(PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()));
    }
    return hb;
  }

  private static Result observed(ConsumerView view, Result r) {
    if (r.getCode() == Code.OK) {
      observe(view, r.getHeartbeat());
    }
    return r;
  }

  private static void observe(ConsumerView view, HeartbeatResult hb) {
    view.session = hb.getSessionToken();
    view.last = hb;
    view.held.clear();
    for (Grant g : hb.getGrantsList()) {
      view.held.put(key(g.getTopic(), g.getPartition()), g);
    }
    for (PartitionRef ref : hb.getReleaseList()) {
      view.held.remove(key(ref.getTopic(), ref.getPartition())); // stops at once, releases next time
    }
  }

  /** Everyone in the group heartbeats, in consumer order, until no handoff is pending and a round changes nothing. */
  void settle(String group) {
    for (int round = 0; round < 20; round++) {
      String before = assignment(group).toString() + targets(group);
      for (String c : members(group)) {
        heartbeat(group, c);
      }
      String after = assignment(group).toString() + targets(group);
      if (before.equals(after) && !releasing(group)) {
        return;
      }
    }
    throw new AssertionError("group " + group + " did not settle: " + assignment(group));
  }

  Result commit(String group, String consumer, String topic, int partition, String cursor) {
    Grant grant = consumer(group, consumer).held.get(key(topic, partition));
    long epoch = grant == null ? 0 : grant.getEpoch();
    return commit(group, consumer, entry(topic, partition, epoch, cursor));
  }

  Result commit(String group, String consumer, CheckpointEntry... entries) {
    return commit(consumer(group, consumer), group, consumer, entries);
  }

  Result commit(ConsumerView view, String group, String consumer, CheckpointEntry... entries) {
    return apply(Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder()
        .setGroup(group).setConsumerId(consumer).setSessionToken(view.session)
        .addAllEntries(List.of(entries))));
  }

  /** Leave as the given process, with final commits. */
  Result leave(ConsumerView view, String group, String consumer, CheckpointEntry... commits) {
    return apply(Command.newBuilder().setLeave(Leave.newBuilder().setGroup(group)
        .setConsumerId(consumer).setSessionToken(view.session).addAllCommits(List.of(commits))));
  }

  /** The grant the consumer was last told about, for commits with its epoch. */
  Grant grant(String group, String consumer, String topic, int partition) {
    Grant g = consumer(group, consumer).held.get(key(topic, partition));
    if (g == null) {
      throw new AssertionError(consumer + " does not hold " + key(topic, partition) + ": " + consumer(group, consumer).held.keySet());
    }
    return g;
  }

  static CheckpointEntry finished(String topic, int partition, long epoch, String cursor) {
    return entry(topic, partition, epoch, cursor).toBuilder().setFinished(true).build();
  }

  io.cohort.statemachine.proto.ClusterInfoView clusterInfo() {
    return coordinator.query(io.cohort.statemachine.proto.Query.newBuilder()
        .setClusterInfo(io.cohort.statemachine.proto.ClusterInfoQuery.getDefaultInstance()).build(), Principals.INTERNAL).getClusterInfo();
  }

  static CheckpointEntry entry(String topic, int partition, long epoch, String cursor) {
    return CheckpointEntry.newBuilder().setTopic(topic).setPartition(partition).setEpoch(epoch)
        .setCursor(cursor).build();
  }

  Result leave(String group, String consumer) {
    Result r = apply(Command.newBuilder().setLeave(Leave.newBuilder().setGroup(group)
        .setConsumerId(consumer).setSessionToken(consumer(group, consumer).session)));
    consumers.remove(group + "/" + consumer);
    return r;
  }

  Result split(String topic, int partition) {
    return apply(Command.newBuilder().setSplitPartition(
        SplitPartition.newBuilder().setTopic(topic).setPartition(partition)));
  }

  Result reset(String group, String topic, int partition, String cursor) {
    return apply(Command.newBuilder().setResetCheckpoint(ResetCheckpoint.newBuilder()
        .setGroup(group).setTopic(topic).setPartition(partition).setCursor(cursor)));
  }

  Result tick() {
    return apply(Command.newBuilder().setTick(Tick.getDefaultInstance()));
  }

  void advanceMs(long ms) {
    nowMs += ms;
  }

  // ------------------------------------------------------------------ views

  GroupView describe(String group) {
    var r = coordinator.query(Query.newBuilder()
        .setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(group)).build(), Principals.INTERNAL);
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r.getGroup();
  }

  GroupPartitionView partition(String group, String topic, int partition) {
    for (GroupPartitionView p : describe(group).getPartitionsList()) {
      if (p.getTopic().equals(topic) && p.getPartition() == partition) {
        return p;
      }
    }
    throw new AssertionError("no partition " + topic + "/" + partition + " in " + group);
  }

  List<String> members(String group) {
    List<String> out = new ArrayList<>();
    describe(group).getMembersList().forEach(m -> out.add(m.getConsumerId()));
    return out;
  }

  /** consumer -> partition ids held (server's view), all topics together. */
  Map<String, TreeSet<Integer>> assignment(String group) {
    Map<String, TreeSet<Integer>> out = new LinkedHashMap<>();
    for (String m : members(group)) {
      out.put(m, new TreeSet<>());
    }
    for (GroupPartitionView p : describe(group).getPartitionsList()) {
      if (p.hasHolder()) {
        out.get(p.getHolder()).add(p.getPartition());
      }
    }
    return out;
  }

  private boolean releasing(String group) {
    return describe(group).getPartitionsList().stream()
        .anyMatch(p -> p.getStatus() == io.cohort.statemachine.proto.PartitionStatus.RELEASING);
  }

  private Map<Integer, String> targets(String group) {
    Map<Integer, String> out = new TreeMap<>();
    for (GroupPartitionView p : describe(group).getPartitionsList()) {
      if (p.hasTarget()) {
        out.put(p.getPartition(), p.getTarget());
      }
    }
    return out;
  }

  static String key(String topic, int partition) {
    return topic + "/" + partition;
  }

  byte[] exportBytes() {
    return exportBytes(coordinator);
  }

  static byte[] exportBytes(Coordinator c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    c.freeze().export(r -> {
      try {
        r.writeDelimitedTo(out);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    return out.toByteArray();
  }

  static List<StateRecord> records(Coordinator c) {
    List<StateRecord> out = new ArrayList<>();
    c.freeze().export(out::add);
    return out;
  }

  static CreateGroup.Builder group(String name, String... topics) {
    return CreateGroup.newBuilder().setGroup(name).addAllTopics(List.of(topics))
        .setStartFrom(StartFrom.BEGIN);
  }
}
