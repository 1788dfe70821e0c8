package io.cohort.statemachine.bench;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupRecord;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.HeaderRecord;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.Tick;
import java.util.ArrayList;
import java.util.List;

/**
 * One assignor-heavy command on one group of {@code partitions} partitions and {@code members}
 * members, and the exact state it is applied to (as state records, so each run starts from a
 * fresh rebuild). Used by {@link AssignorBenchmark} and by AssignorScaleTest.
 *
 * <ul>
 *   <li>{@code joinSecond}: one member holds everything, a second joins (half the partitions move);
 *   <li>{@code join}: one member holds everything and {@code members - 2} others joined since (every
 *       partition but its share is being released), one more joins;
 *   <li>{@code release}: that same holder's heartbeat that releases everything it was asked to —
 *       every released partition is granted to its target on this command;
 *   <li>{@code leave}, {@code expire}: a balanced group (contiguous ranges) loses one member by
 *       Leave, or by a Tick after its session ran out;
 *   <li>{@code split}: a balanced group; one partition splits and its two children are placed.
 * </ul>
 */
public final class AssignorScenario {
  public static final String TOPIC = "t";
  public static final String GROUP = "g";
  static final long SESSION_MS = 600_000;
  static final long NOW_MS = 10_000_000;
  static final long TERM = 1;
  /** The defaults, with room for a split of a 10,000-partition topic. */
  static final Limits LIMITS = Limits.DEFAULTS.with(io.cohort.statemachine.proto.LimitsRecord.newBuilder()
      .setMaxPartitionsPerTopic(20_000).build());

  public final List<StateRecord> state;
  public final Command command;
  public final long timeMs;

  private AssignorScenario(List<StateRecord> state, Command command, long timeMs) {
    this.state = state;
    this.command = command;
    this.timeMs = timeMs;
  }

  public Coordinator fresh() {
    return Coordinator.rebuild(state.iterator(), Limits.DEFAULTS);
  }

  public Result run(Coordinator c) {
    return c.apply(command, c.appliedIndex() + 1, TERM, timeMs);
  }

  static String member(int i) {
    return String.format("consumer-%05d", i);
  }

  public static AssignorScenario of(String op, int partitions, int members) {
    return switch (op) {
      case "joinSecond" -> join(oneHoldsAll(partitions, 1), 1);
      case "join" -> join(oneHoldsAll(partitions, members - 1), members - 1);
      case "release" -> release(oneHoldsAll(partitions, members));
      case "leave" -> new AssignorScenario(balanced(partitions, members, -1), Command.newBuilder()
          .setLeave(Leave.newBuilder().setGroup(GROUP).setConsumerId(member(0)).setSession(1)).build(), NOW_MS);
      case "expire" -> new AssignorScenario(balanced(partitions, members, 0),
          Command.newBuilder().setTick(Tick.getDefaultInstance()).build(), NOW_MS + 1);
      case "split" -> new AssignorScenario(balanced(partitions, members, -1), Command.newBuilder()
          .setSplitPartition(SplitPartition.newBuilder().setTopic(TOPIC).setPartition(partitions / 2)).build(), NOW_MS);
      default -> throw new IllegalArgumentException("unknown operation " + op);
    };
  }

  private static AssignorScenario join(List<StateRecord> state, int existing) {
    return new AssignorScenario(state, Command.newBuilder().setHeartbeat(Heartbeat.newBuilder()
        .setGroup(GROUP).setConsumerId(member(existing))).build(), NOW_MS);
  }

  /** The holder of everything heartbeats, keeping only what it was not asked to release. */
  private static AssignorScenario release(List<StateRecord> state) {
    Coordinator c = Coordinator.rebuild(state.iterator(), Limits.DEFAULTS);
    GroupView view = c.query(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(GROUP))
        .build()).getGroup();
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(GROUP).setConsumerId(member(0)).setSession(1);
    for (GroupPartitionView p : view.getPartitionsList()) {
      if (p.getStatus() == PartitionStatus.HELD) {
        hb.addHeld(PartitionRef.newBuilder().setTopic(TOPIC).setPartition(p.getPartition()));
      }
    }
    return new AssignorScenario(state, Command.newBuilder().setHeartbeat(hb).build(), NOW_MS);
  }

  private static List<StateRecord> base(int partitions, List<MemberRecord> members, List<SlotRecord> slots) {
    Coordinator topic = new Coordinator(Limits.DEFAULTS);
    topic.apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(TOPIC)
        .setPartitions(partitions)).build(), 1, TERM, NOW_MS);
    List<StateRecord> out = new ArrayList<>();
    out.add(StateRecord.newBuilder().setHeader(HeaderRecord.newBuilder().setFormatVersion(FrozenState.FORMAT_VERSION)
        .setAppliedIndex(1_000).setAppliedTerm(TERM).setNowMs(NOW_MS).setLastTerm(TERM).setTermStartMs(NOW_MS)
        .setLimits(LIMITS.toRecord())).build());
    topic.freeze().export(r -> {
      if (r.hasTopic()) {
        out.add(r);
      }
    });
    out.add(StateRecord.newBuilder().setGroup(GroupRecord.newBuilder().setGroup(GROUP).addTopics(TOPIC)
        .setSessionTimeoutMs(SESSION_MS).setHeartbeatIntervalMs(1_000).setStartFrom(StartFrom.BEGIN)).build());
    members.forEach(m -> out.add(StateRecord.newBuilder().setMember(m).build()));
    slots.forEach(s -> out.add(StateRecord.newBuilder().setSlot(s).build()));
    return out;
  }

  private static MemberRecord memberRecord(int i, long deadlineMs) {
    return MemberRecord.newBuilder().setGroup(GROUP).setConsumerId(member(i)).setSession(i + 1)
        .setLastHeartbeatMs(deadlineMs - SESSION_MS).setDeadlineMs(deadlineMs).build();
  }

  private static SlotRecord held(int partition, int member) {
    return SlotRecord.newBuilder().setGroup(GROUP).setTopic(TOPIC).setPartition(partition)
        .setHolder(member(member)).setEpoch(500).setAnnounced(true).build();
  }

  /** Member i holds the i-th contiguous share; {@code expiring} (if not -1) has an older heartbeat. */
  static List<StateRecord> balanced(int partitions, int members, int expiring) {
    List<MemberRecord> ms = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      ms.add(memberRecord(i, i == expiring ? NOW_MS : NOW_MS + SESSION_MS / 2));
    }
    List<SlotRecord> slots = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      slots.add(held(p, (int) ((long) p * members / partitions)));
    }
    return base(partitions, ms, slots);
  }

  /** Member 0 holds everything; members 1..others-1 joined since (the assignor moved shares to them). */
  static List<StateRecord> oneHoldsAll(int partitions, int members) {
    List<MemberRecord> ms = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      ms.add(memberRecord(i, NOW_MS + SESSION_MS / 2));
    }
    List<SlotRecord> slots = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      slots.add(held(p, 0));
    }
    List<StateRecord> state = base(partitions, ms, slots);
    if (members == 1) {
      return state;
    }
    // Let the assignor decide the moves, as the joins did: any command that rebalances will do.
    Coordinator c = Coordinator.rebuild(state.iterator(), Limits.DEFAULTS);
    Result r = c.apply(Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic(TOPIC).setPartition(0)
        .setWeight(1.0)).build(), c.appliedIndex() + 1, TERM, NOW_MS);
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException(r.getMessage());
    }
    List<StateRecord> out = new ArrayList<>();
    c.freeze().export(out::add);
    return out;
  }
}
