package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SplitPartition;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The metrics summary counts partitions exactly as `group describe` shows them. */
class MetricsViewTest {
  private final Coordinator c = new Coordinator(Limits.DEFAULTS);
  private long index;

  private Result apply(Command command, long timeMs) {
    index++;
    return c.apply(command, index, 1, TestStamps.at(timeMs, index));
  }

  /** Statuses as `group describe` (Views) reports them. */
  private Map<PartitionStatus, Integer> described(String group) {
    Map<PartitionStatus, Integer> counts = new EnumMap<>(PartitionStatus.class);
    for (GroupPartitionView p : c.query(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder()
        .setGroup(group)).build(), Principals.INTERNAL).getGroup().getPartitionsList()) {
      counts.merge(p.getStatus(), 1, Integer::sum);
    }
    return counts;
  }

  private Map<PartitionStatus, Integer> counted(String group) {
    MetricsView.GroupCounts g = c.metricsView(100).groups().stream().filter(x -> x.group().equals(group))
        .findFirst().orElseThrow();
    Map<PartitionStatus, Integer> counts = new EnumMap<>(PartitionStatus.class);
    for (PartitionStatus s : PartitionStatus.values()) {
      if (s != PartitionStatus.UNRECOGNIZED && g.partitions(s) > 0) {
        counts.put(s, g.partitions(s));
      }
    }
    return counts;
  }

  @Test
  void R5_statusCountsMatchGroupDescribeThroughASplitWithOrder() {
    apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t").setPartitions(2)).build(), 1000);
    apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g").addTopics("t").setOrder(true))
        .build(), 1000);
    assertEquals(Map.of(PartitionStatus.UNASSIGNED, 2), counted("g"));
    Result joined = apply(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("A"))
        .build(), 1000);
    com.google.protobuf.ByteString session = joined.getHeartbeat().getSessionToken();
    apply(Command.newBuilder().setSplitPartition(SplitPartition.newBuilder().setTopic("t").setPartition(0)).build(),
        2000);
    assertEquals(described("g"), counted("g"));
    assertEquals(2, counted("g").get(PartitionStatus.WAITING_PARENTS), "children wait for their parent (R5)");

    long epoch = joined.getHeartbeat().getGrantsList().stream().filter(g -> g.getPartition() == 0).findFirst()
        .orElseThrow().getEpoch();
    apply(Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup("g").setConsumerId("A")
        .setSessionToken(session).addEntries(CheckpointEntry.newBuilder().setTopic("t").setPartition(0).setEpoch(epoch)
            .setCursor("end").setFinished(true))).build(), 3000);
    assertEquals(described("g"), counted("g"));
    assertEquals(1, counted("g").get(PartitionStatus.FINISHED));

    MetricsView.Summary s = c.metricsView(100);
    assertEquals(3, s.partitions().size(), "finished partitions get no per-partition sample");
    assertEquals(3000, s.nowMs());
  }

  @Test
  void samplesStopAtTheCapAndTheRestAreCounted() {
    apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t").setPartitions(7)).build(), 1000);
    apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("a").addTopics("t")).build(), 1000);
    apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("b").addTopics("t")).build(), 1000);
    MetricsView.Summary s = c.metricsView(10);
    assertEquals(10, s.partitions().size());
    assertEquals(4, s.partitionsOmitted());
    assertEquals("a", s.partitions().get(0).group());
    assertEquals("b", s.partitions().get(9).group());
    assertEquals(2, s.partitions().get(9).partition(), "in (group, topic, partition) order");
    assertEquals(0, c.metricsView(0).partitions().size());
  }

  private static Map<PartitionStatus, Integer> described(CoordinatorTestContext ctx, String group) {
    Map<PartitionStatus, Integer> counts = new EnumMap<>(PartitionStatus.class);
    ctx.describe(group).getPartitionsList().forEach(p -> counts.merge(p.getStatus(), 1, Integer::sum));
    return counts;
  }

  private static Map<PartitionStatus, Integer> counted(CoordinatorTestContext ctx, String group) {
    MetricsView.GroupCounts g = ctx.coordinator.metricsView(100).groups().stream()
        .filter(x -> x.group().equals(group)).findFirst().orElseThrow();
    Map<PartitionStatus, Integer> counts = new EnumMap<>(PartitionStatus.class);
    for (PartitionStatus s : PartitionStatus.values()) {
      if (s != PartitionStatus.UNRECOGNIZED && g.partitions(s) > 0) {
        counts.put(s, g.partitions(s));
      }
    }
    return counts;
  }

  @Test
  void R5_aResetParentWaitingForItsChildrenIsCountedAsDescribeShowsIt() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withOrderedGroup("g", "t")
        .withMember("g", "A").withMember("g", "B");
    CoordinatorTestContext.ok(ctx.split("t", 0));
    ctx.settle("g");
    CoordinatorTestContext.ok(ctx.commit("g", "A", CoordinatorTestContext.finished("t", 0,
        ctx.grant("g", "A", "t", 0).getEpoch(), "end")));
    ctx.settle("g");
    CoordinatorTestContext.ok(ctx.reset("g", "t", 0, "0"));
    assertEquals(Map.of(PartitionStatus.WAITING_CHILDREN, 1, PartitionStatus.RELEASING, 2), described(ctx, "g"));
    assertEquals(described(ctx, "g"), counted(ctx, "g"));
  }

  @Test
  void R2_partitionsOfAReplacedSessionAreCountedAsReleasing() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 3).withGroup("g", "t")
        .withMember("g", "A");
    ctx.restart("g", "A");
    assertEquals(Map.of(PartitionStatus.RELEASING, 3), described(ctx, "g"));
    assertEquals(described(ctx, "g"), counted(ctx, "g"));
  }
}
