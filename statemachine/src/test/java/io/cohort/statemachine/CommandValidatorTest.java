package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.ReaderError;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetLimits;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.Tick;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * R9: what the leader refuses before the log (stateless) is exactly what apply refuses whatever
 * the state, with the same code, changing nothing; and issue 10's inputs are taken as given or
 * refused in one line.
 */
class CommandValidatorTest {
  /** Small, so that random commands hit every limit. */
  static final Limits SMALL = Limits.DEFAULTS.with(LimitsRecord.newBuilder().setMaxEntriesPerCommand(3)
      .setMaxHeldPerHeartbeat(6).setMaxCursorBytes(8).setMaxTopicsPerGroup(2).setMaxPartitionsPerTopic(8)
      .setMaxCommandBytes(Limits.MIN_COMMAND_BYTES).setMaxSlots(40).setMaxMembers(6).setMaxGroups(4).build());

  private static final String[] NAMES = {"t", "u", "g", "h", "A", "B", "C", "", ".", "..", "a.b", "x".repeat(256),
      "bad name", "a\nb", "\u00e9", "a/b"};
  private static final int[] PARTITIONS = {0, 1, 2, 3, 5, 7, 9, -1, Integer.MAX_VALUE};
  private static final String[] CURSORS = {"", "1", "12345678", "123456789", "\u00e9\u00e9\u00e9\u00e9\u00e9", "\n"};
  private static final double[] WEIGHTS = {1, 2.5, 1e-6, 1.5e-6, 9e-7, 4.9e-324, 0, -1, Double.NaN,
      Double.POSITIVE_INFINITY, 1e6, 1e6 + 1};
  private static final long[] TIMES = {0, 5, 10, 999, 1_000, 3_000, 10_000, 30_000, 600_000, 600_001, 3_600_001, -1};
  private static final long[] RETENTIONS = {0, 999, 1_000, 5_000, -1, Groups.DEFAULT_RETENTION_MS,
      Groups.MAX_RETENTION_MS, Groups.MAX_RETENTION_MS + 1};
  private static final String[] MESSAGES = {"", "boom", "x".repeat(256), "x".repeat(257), "\u00e9".repeat(129)};

  // ------------------------------------------------------------------ the property

  @Property(tries = 300, seed = "97")
  void R9_whatValidateRefusesApplyRefusesWithTheSameCodeInAnyState(@ForAll long seed) {
    Random rnd = new Random(seed);
    CoordinatorTestContext ctx = rnd.nextBoolean() ? emptyState()
        : new CoordinatorTestContext(Coordinator.rebuild(BUSY.iterator(), SMALL), 1, 2_000_000);
    for (int i = 0; i < 40; i++) {
      Command c = rnd.nextInt(4) == 0 ? mutated(rnd, randomCommand(rnd)) : randomCommand(rnd);
      Result refused = Coordinator.validate(c, c.getSerializedSize(), ctx.coordinator.limits());
      byte[] before = refused == null ? null : stateIgnoringIndex(ctx.coordinator);
      Result r = ctx.apply(c.toBuilder());
      assertNotEquals(Code.INTERNAL, r.getCode(), "apply hit a broken invariant on " + c);
      assertOneLine(r.getMessage());
      if (refused != null) {
        assertEquals(refused.getCode(), r.getCode(), "seed " + seed + ": " + c);
        assertEquals(refused.getMessage(), r.getMessage());
        assertArrayEquals(before, stateIgnoringIndex(ctx.coordinator), "seed " + seed + ": refused but changed: " + c);
      }
    }
  }

  private static final List<StateRecord> BUSY = CoordinatorTestContext.records(busyState().coordinator);

  static CoordinatorTestContext emptyState() {
    return new CoordinatorTestContext(SMALL);
  }

  static CoordinatorTestContext busyState() {
    CoordinatorTestContext ctx = new CoordinatorTestContext(SMALL).withTopic("t", 4).withTopic("u", 2)
        .withGroup("g", "t", "u").withOrderedGroup("h", "t").withMember("g", "A").withMember("g", "B")
        .withMember("h", "C");
    CoordinatorTestContext.ok(ctx.split("t", 1));
    ctx.heartbeat("g", "C");
    return ctx;
  }

  /** The exported state without the applied index and term, which every entry moves. */
  static byte[] stateIgnoringIndex(Coordinator c) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    c.freeze().export(r -> {
      StateRecord record = r.hasHeader() ? r.toBuilder().setHeader(r.getHeader().toBuilder()
          .clearAppliedIndex().clearAppliedTerm()).build() : r;
      out.writeBytes(record.toByteArray());
    });
    return out.toByteArray();
  }

  private static <T> T pick(Random rnd, T[] items) {
    return items[rnd.nextInt(items.length)];
  }

  /** Mostly valid tokens, some of the wrong length; empty (a join) where allowed and sometimes where not. */
  private static com.google.protobuf.ByteString token(Random rnd, boolean joinAllowed) {
    int pick = rnd.nextInt(6);
    if (pick == 0 || (pick == 1 && joinAllowed)) {
      return com.google.protobuf.ByteString.EMPTY;
    }
    if (pick == 2) {
      return TestStamps.token(rnd.nextInt(60)).substring(0, 1 + rnd.nextInt(15));
    }
    return TestStamps.token(rnd.nextInt(60));
  }

  private static String name(Random rnd) {
    return rnd.nextInt(3) == 0 ? pick(rnd, NAMES) : pick(rnd, new String[] {"t", "u", "g", "h", "A", "B"});
  }

  private static int partition(Random rnd) {
    return PARTITIONS[rnd.nextInt(PARTITIONS.length)];
  }

  private static long time(Random rnd) {
    return TIMES[rnd.nextInt(TIMES.length)];
  }

  private static CheckpointEntry entry(Random rnd) {
    CheckpointEntry.Builder e = CheckpointEntry.newBuilder().setTopic(name(rnd)).setPartition(partition(rnd))
        .setEpoch(rnd.nextInt(60)).setCursor(pick(rnd, CURSORS)).setFinished(rnd.nextInt(5) == 0);
    if (rnd.nextBoolean()) {
      e.setLag(rnd.nextInt(10) - 2);
    }
    if (rnd.nextBoolean()) {
      e.setLagMs(rnd.nextInt(10) - 2);
    }
    return e.build();
  }

  private static List<ReaderError> errors(Random rnd) {
    int n = rnd.nextInt(4) == 0 ? rnd.nextInt(5) : 0;
    return java.util.stream.Stream.generate(() -> {
      ReaderError.Builder e = ReaderError.newBuilder().setTopic(name(rnd)).setPartition(partition(rnd))
          .setEpoch(rnd.nextInt(60)).setMessage(pick(rnd, MESSAGES)).setAttempts(rnd.nextInt(4) - 1)
          .setSkipped(rnd.nextBoolean());
      if (rnd.nextBoolean()) {
        e.setCursor(pick(rnd, CURSORS));
      }
      return e.build();
    }).limit(n).toList();
  }

  private static List<CheckpointEntry> entries(Random rnd) {
    int n = rnd.nextInt(5);
    return java.util.stream.Stream.generate(() -> entry(rnd)).limit(n).toList();
  }

  static Command randomCommand(Random rnd) {
    Command.Builder c = Command.newBuilder();
    switch (rnd.nextInt(17)) {
      case 0 -> c.setCreateTopic(CreateTopic.newBuilder().setTopic(name(rnd)).setPartitions(partition(rnd)));
      case 1 -> c.setDeleteTopic(DeleteTopic.newBuilder().setTopic(name(rnd)));
      case 2 -> {
        SplitPartition.Builder s = SplitPartition.newBuilder().setTopic(name(rnd)).setPartition(partition(rnd));
        if (rnd.nextBoolean()) {
          s.setEndCursor(pick(rnd, CURSORS));
        }
        if (rnd.nextBoolean()) {
          s.setSplitKey(rnd.nextLong());
        }
        c.setSplitPartition(s);
      }
      case 3 -> c.setMergePartitions(MergePartitions.newBuilder().setTopic(name(rnd)).setPartition1(partition(rnd))
          .setPartition2(partition(rnd)).setEndCursor1(pick(rnd, CURSORS)));
      case 4 -> c.setSetWeight(SetWeight.newBuilder().setTopic(name(rnd)).setPartition(partition(rnd))
          .setWeight(WEIGHTS[rnd.nextInt(WEIGHTS.length)]));
      case 5 -> {
        CreateGroup.Builder g = CreateGroup.newBuilder().setGroup(name(rnd)).setOrder(rnd.nextBoolean())
            .setSessionTimeoutMs(time(rnd)).setHeartbeatIntervalMs(time(rnd)).setReleaseTimeoutMs(time(rnd))
            .setStartFromValue(rnd.nextInt(4));
        if (rnd.nextInt(3) == 0) {
          g.setRetentionMs(RETENTIONS[rnd.nextInt(RETENTIONS.length)]);
        }
        for (int i = rnd.nextInt(4); i > 0; i--) {
          g.addTopics(name(rnd));
        }
        c.setCreateGroup(g);
      }
      case 6 -> {
        UpdateGroup.Builder u = UpdateGroup.newBuilder().setGroup(name(rnd));
        if (rnd.nextBoolean()) {
          u.setSessionTimeoutMs(time(rnd));
        }
        if (rnd.nextBoolean()) {
          u.setHeartbeatIntervalMs(time(rnd));
        }
        if (rnd.nextBoolean()) {
          u.setReleaseTimeoutMs(time(rnd));
        }
        if (rnd.nextInt(3) == 0) {
          u.setRetentionMs(RETENTIONS[rnd.nextInt(RETENTIONS.length)]);
        }
        for (int i = rnd.nextInt(3); i > 0; i--) {
          u.addAddTopics(name(rnd));
        }
        c.setUpdateGroup(u);
      }
      case 7 -> c.setDeleteGroup(DeleteGroup.newBuilder().setGroup(name(rnd)).setForce(rnd.nextBoolean()));
      case 8, 9 -> {
        Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(name(rnd)).setConsumerId(name(rnd))
            .setSessionToken(token(rnd, true))
            .addAllCommits(entries(rnd)).addAllErrors(errors(rnd));
        for (int i = rnd.nextInt(9); i > 0; i--) {
          hb.addHeld(PartitionRef.newBuilder().setTopic(name(rnd)).setPartition(partition(rnd)));
        }
        c.setHeartbeat(hb);
      }
      case 10 -> c.setLeave(Leave.newBuilder().setGroup(name(rnd)).setConsumerId(name(rnd))
          .setSessionToken(token(rnd, false)).addAllCommits(entries(rnd)));
      case 11 -> c.setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup(name(rnd)).setConsumerId(name(rnd))
          .setSessionToken(token(rnd, false)).addAllEntries(entries(rnd)).addAllErrors(errors(rnd)));
      case 12 -> c.setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(name(rnd)).setTopic(name(rnd))
          .setPartition(partition(rnd)).setCursor(pick(rnd, CURSORS)));
      case 13 -> {
        ResetCheckpoints.Builder r = ResetCheckpoints.newBuilder().setGroup(name(rnd));
        for (int i = rnd.nextInt(5); i > 0; i--) {
          CheckpointReset.Builder e = CheckpointReset.newBuilder().setTopic(name(rnd)).setPartition(partition(rnd));
          switch (rnd.nextInt(4)) {
            case 0 -> e.setCursor(pick(rnd, CURSORS));
            case 1 -> e.setDelete(true);
            case 2 -> e.setToEnd(true);
            default -> { }
          }
          r.addEntries(e);
        }
        c.setResetCheckpoints(r);
      }
      case 14 -> c.setTick(Tick.getDefaultInstance());
      case 15 -> {
        LimitsRecord.Builder l = LimitsRecord.newBuilder();
        if (rnd.nextBoolean()) {
          l.setMaxGroups(rnd.nextInt(6) - 1);
        }
        if (rnd.nextBoolean()) {
          l.setMaxCommandBytes(rnd.nextBoolean() ? 100 : 1 << 20);
        }
        if (rnd.nextBoolean()) {
          l.setMaxSlots(rnd.nextInt(60) - 1);
        }
        c.setSetLimits(SetLimits.newBuilder().setLimits(l));
      }
      default -> {
        if (rnd.nextBoolean()) {
          c.setCreateTopic(CreateTopic.newBuilder().setTopic("x".repeat(Limits.MIN_COMMAND_BYTES)).setPartitions(1));
        }
      }
    }
    return c.build();
  }

  /** The bytes of a command with a few of them changed, if they still decode. */
  static Command mutated(Random rnd, Command c) {
    byte[] bytes = c.toByteArray();
    if (bytes.length == 0) {
      return c;
    }
    for (int i = 1 + rnd.nextInt(3); i > 0; i--) {
      bytes[rnd.nextInt(bytes.length)] = (byte) rnd.nextInt(256);
    }
    try {
      return Command.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return c;
    }
  }

  static void assertOneLine(String message) {
    assertFalse(message.contains("\n") || message.contains("\r"), "a message on one line: " + message);
    assertTrue(message.length() < 600, "a short message: " + message);
    for (char ch : message.toCharArray()) {
      assertTrue(ch >= 0x20 && ch < 0x7f, "printable ASCII only: " + message);
    }
  }

  // ------------------------------------------------------------------ issue 10's inputs

  private static Result validate(Command.Builder c) {
    Command built = c.build();
    return Coordinator.validate(built, built.getSerializedSize(), Limits.DEFAULTS);
  }

  @Test
  void R9_dotAndDotDotAreRefusedAsNamesEverywhere() {
    for (String bad : List.of(".", "..")) {
      List<Command.Builder> commands = List.of(
          Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(bad).setPartitions(1)),
          Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(bad).addTopics("t")),
          Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g").addTopics(bad)),
          Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g").addAddTopics(bad)),
          Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId(bad)),
          Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup("g").setConsumerId("c")
              .setSessionToken(TestStamps.token(3)).addEntries(CheckpointEntry.newBuilder().setTopic(bad))),
          Command.newBuilder().setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(bad).setTopic("t")),
          Command.newBuilder().setDeleteTopic(DeleteTopic.newBuilder().setTopic(bad)));
      for (Command.Builder c : commands) {
        Result r = validate(c);
        assertNotNull(r, c.toString());
        assertEquals(Code.INVALID_ARGUMENT, r.getCode());
        assertTrue(r.getMessage().contains("reserved"), r.getMessage());
      }
    }
    assertNull(validate(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("...").setPartitions(1))),
        "other dotted names are fine");
  }

  @Test
  void R9_aGroupNamingTheSameTopicTwiceIsRefused() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("clicks", 2);
    Result r = ctx.apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g")
        .addTopics("clicks").addTopics("clicks")));
    assertEquals(Code.INVALID_ARGUMENT, r.getCode());
    assertEquals("topic 'clicks' is named twice", r.getMessage());
    assertTrue(ctx.coordinator.query(io.cohort.statemachine.proto.Query.newBuilder().setListGroups(
        io.cohort.statemachine.proto.ListGroups.getDefaultInstance()).build(), Principals.INTERNAL).getGroups().getGroupsList().isEmpty());
  }

  @Test
  void R9_setWeightStoresWhatItSaysOrRefuses() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1);
    Result tiny = ctx.apply(Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic("t").setPartition(0)
        .setWeight(4.9e-324)));
    assertEquals(Code.INVALID_ARGUMENT, tiny.getCode(), "below the representable minimum");
    assertTrue(tiny.getMessage().contains("1.0E-6"), tiny.getMessage());
    Result min = CoordinatorTestContext.ok(ctx.apply(Command.newBuilder().setSetWeight(SetWeight.newBuilder()
        .setTopic("t").setPartition(0).setWeight(1e-6))));
    assertEquals("weight of t/0 set to 1.0E-6", min.getMessage());
    Result rounded = CoordinatorTestContext.ok(ctx.apply(Command.newBuilder().setSetWeight(SetWeight.newBuilder()
        .setTopic("t").setPartition(0).setWeight(2.0000004))));
    assertEquals("weight of t/0 set to 2.0 (2.0000004 rounded to millionths)", rounded.getMessage());
    assertEquals(2.0, ctx.coordinator.query(io.cohort.statemachine.proto.Query.newBuilder().setDescribeTopic(
        io.cohort.statemachine.proto.DescribeTopicQuery.newBuilder().setTopic("t")).build(), Principals.INTERNAL)
        .getTopic().getPartitions(0).getWeight());
  }

  @Test
  void R8_rejectionsAreOneLineAndNeverEchoRawBytes() {
    Coordinator c = new Coordinator(Limits.DEFAULTS);
    byte[] junk = {(byte) 0xff, 0x0a, 0x0d, 0x01, 0x02};
    Result r = c.applyLogEntry(junk, 1, 1);
    assertEquals(Code.INVALID_ARGUMENT, r.getCode());
    assertEquals("entry 1 is not a Cohort command (5 bytes that do not decode)", r.getMessage());
    byte[] badCommand = LogEntry.newBuilder().setCommand(ByteString.copyFrom(new byte[] {0x0a, 0x7f})).build()
        .toByteArray();
    assertOneLine(c.applyLogEntry(badCommand, 2, 1).getMessage());
    Result name = validate(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("a\nb\u0000")
        .setPartitions(1)));
    assertOneLine(name.getMessage());
    assertEquals("topic name 'a\\u000ab\\u0000' has a character outside [A-Za-z0-9._-] at position 1",
        name.getMessage());
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withGroup("g", "t");
    Result reset = CoordinatorTestContext.ok(ctx.reset("g", "t", 0, "x\ny"));
    assertOneLine(reset.getMessage());
  }

  @Test
  void R9_theLeaderRefusesOversizedCommandsBeforeTheLog() {
    Command big = Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t").setPartitions(1)).build();
    Result r = Coordinator.validate(big, (1 << 20) + 1, Limits.DEFAULTS);
    assertEquals(Code.LIMIT_EXCEEDED, r.getCode());
    assertNull(Coordinator.validate(big, big.getSerializedSize(), Limits.DEFAULTS));
  }

  @Test
  void R9_aReaderErrorIsBoundedBeforeTheLog() {
    ReaderError ok = ReaderError.newBuilder().setTopic("t").setPartition(0).setEpoch(1).setMessage("x".repeat(256))
        .setAttempts(2).build();
    Command fits = Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("A")
        .setSessionToken(com.google.protobuf.ByteString.copyFrom(new byte[16])).addErrors(ok)).build();
    assertNull(Coordinator.validate(fits, fits.getSerializedSize(), Limits.DEFAULTS));
    Command tooLong = Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup("g")
        .setConsumerId("A").setSessionToken(com.google.protobuf.ByteString.copyFrom(new byte[16])).addErrors(ok.toBuilder().setMessage("\u00e9".repeat(129)))).build();
    Result r = Coordinator.validate(tooLong, tooLong.getSerializedSize(), Limits.DEFAULTS);
    assertEquals(Code.LIMIT_EXCEEDED, r.getCode());
    assertTrue(r.getMessage().contains("256 bytes"), r.getMessage());
    Command negative = Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("A")
        .setSessionToken(com.google.protobuf.ByteString.copyFrom(new byte[16])).addErrors(ok.toBuilder().setAttempts(-1))).build();
    assertEquals(Code.INVALID_ARGUMENT, Coordinator.validate(negative, negative.getSerializedSize(), Limits.DEFAULTS)
        .getCode());
  }
}
