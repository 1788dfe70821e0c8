package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cohort.statemachine.proto.CheckpointRecord;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.GroupRecord;
import io.cohort.statemachine.proto.HeaderRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * R4: the near-linear assignor makes exactly the choices of the one it replaced (kept as {@link
 * LegacyAssignor}): same grants, same targets, same releases, on random states built directly from
 * state records — unbalanced, with weights that tie, splits and merges (adjacency), slots already
 * moving, and slots held by the member that would receive them. Where the rules changed on purpose
 * (order=true lineage, cancelled moves, takeovers) other tests pin the new behaviour.
 */
class AssignorEquivalenceTest {

  @Property(tries = 400, seed = "4242")
  void R4_sameOutcomeAsTheReferenceAssignor(@ForAll long seed) {
    compare(seed);
  }

  @Test
  void R4_sameOutcomeOnALargeUnbalancedGroup() {
    for (long seed = 1; seed <= 5; seed++) {
      compare(seed * 1_000_003, 400, 25);
    }
  }

  private static void compare(long seed) {
    Random rnd = new Random(seed);
    compare(seed, 1 + rnd.nextInt(40), 1 + rnd.nextInt(12));
  }

  private static void compare(long seed, int maxPartitions, int maxMembers) {
    List<StateRecord> records = randomState(new Random(seed), maxPartitions, maxMembers);
    Coordinator legacy = Coordinator.rebuild(records.iterator(), Limits.DEFAULTS);
    Coordinator current = Coordinator.rebuild(records.iterator(), Limits.DEFAULTS);
    GroupState a = legacy.state().groups.get("g");
    GroupState b = current.state().groups.get("g");
    LegacyAssignor.rebalance(a, 2_000, legacy.state().nowMs);
    Assignor.rebalance(b, 2_000, current.state());
    assertEquals(decisions(legacy), decisions(current), "seed " + seed);
  }

  /** The records without when a release was asked: metrics only, the legacy assignor did not keep it. */
  private static String decisions(Coordinator c) {
    return CoordinatorTestContext.records(c).stream().map(r -> r.hasSlot()
        ? r.toBuilder().setSlot(r.getSlot().toBuilder().clearReleaseAskedAtMs()).build() : r).toList().toString();
  }

  /** Topics reshaped by random splits, merges and weights; one order=false group over them. */
  static List<StateRecord> randomState(Random rnd, int maxPartitions, int maxMembers) {
    Coordinator topics = new Coordinator(Limits.DEFAULTS);
    long[] index = {0};
    int topicCount = 1 + rnd.nextInt(3);
    double[] weights = {1, 1, 1, 2, 0.5, 3};
    for (int t = 0; t < topicCount; t++) {
      String name = "t" + t;
      apply(topics, index, Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(name)
          .setPartitions(1 + rnd.nextInt(maxPartitions))).build());
      int changes = rnd.nextInt(maxPartitions / 2 + 2);
      for (int i = 0; i < changes; i++) {
        int size = topics.state().topics.get(name).size();
        int p = rnd.nextInt(size);
        Command c = switch (rnd.nextInt(3)) {
          case 0 -> Command.newBuilder().setSplitPartition(SplitPartition.newBuilder().setTopic(name)
              .setPartition(p)).build();
          case 1 -> Command.newBuilder().setMergePartitions(MergePartitions.newBuilder().setTopic(name)
              .setPartition1(p).setPartition2(rnd.nextInt(size))).build();
          default -> Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic(name).setPartition(p)
              .setWeight(weights[rnd.nextInt(weights.length)])).build();
        };
        apply(topics, index, c);
      }
    }
    List<StateRecord> out = new ArrayList<>();
    out.add(StateRecord.newBuilder().setHeader(HeaderRecord.newBuilder().setFormatVersion(FrozenState.FORMAT_VERSION)
        .setAppliedIndex(1_000).setAppliedTerm(1).setNowMs(50_000).setLastTerm(1).setTermStartMs(1)
        .setLimits(Limits.DEFAULTS.toRecord())).build());
    List<TopicRecord> topicRecords = new ArrayList<>();
    topics.freeze().export(r -> {
      if (r.hasTopic()) {
        topicRecords.add(r.getTopic());
        out.add(r);
      }
    });
    GroupRecord.Builder group = GroupRecord.newBuilder().setGroup("g").setSessionTimeoutMs(10_000)
        .setHeartbeatIntervalMs(1_000).setStartFrom(StartFrom.BEGIN);
    topicRecords.forEach(t -> group.addTopics(t.getTopic()));
    out.add(StateRecord.newBuilder().setGroup(group).build());
    int memberCount = 1 + rnd.nextInt(maxMembers);
    List<String> members = new ArrayList<>();
    for (int m = 0; m < memberCount; m++) {
      String id = "c" + (char) ('a' + rnd.nextInt(26)) + m;
      members.add(id);
    }
    members.sort(null);
    for (String id : members) {
      out.add(StateRecord.newBuilder().setMember(MemberRecord.newBuilder().setGroup("g").setConsumerId(id)
          .setSessionToken(TestStamps.token(7)).setOwner(Principals.INTERNAL).setDeadlineMs(60_000)).build());
    }
    // Some members hold much, some nothing: most states need many moves.
    int favourite = rnd.nextInt(memberCount);
    for (TopicRecord t : topicRecords) {
      for (var p : t.getPartitionsList()) {
        SlotRecord.Builder slot = SlotRecord.newBuilder().setGroup("g").setTopic(t.getTopic())
            .setPartition(p.getId()).setEpoch(1 + rnd.nextInt(900)).setAnnounced(rnd.nextBoolean());
        int roll = rnd.nextInt(10);
        if (roll < 3) {
          out.add(StateRecord.newBuilder().setSlot(slot.setEpoch(0).setAnnounced(false)).build());
          continue; // free
        }
        String holder = members.get(roll < 7 ? favourite : rnd.nextInt(memberCount));
        slot.setHolder(holder);
        if (memberCount > 1 && rnd.nextInt(5) == 0) {
          String target = members.get(rnd.nextInt(memberCount));
          if (!target.equals(holder)) {
            slot.setReleasing(true).setTarget(target).setReleaseDeadlineMs(40_000);
          }
        }
        if (p.getState() == PartitionState.SEALED && rnd.nextInt(4) == 0) {
          slot.setCheckpoint(CheckpointRecord.newBuilder().setCursor("end").setFinished(true).setEpoch(1));
        }
        out.add(StateRecord.newBuilder().setSlot(slot).build());
      }
    }
    return out;
  }

  private static void apply(Coordinator c, long[] index, Command command) {
    long i = ++index[0];
    Result r = c.apply(command, i, 1, TestStamps.at(1_000, i));
    if (r.getCode() == Code.INTERNAL) {
      throw new AssertionError(r.getMessage());
    }
  }
}
