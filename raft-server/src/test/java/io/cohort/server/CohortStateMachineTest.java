package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetLimits;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.junit.jupiter.api.Test;

/** The state machine's callbacks driven directly, without Ratis servers. */
class CohortStateMachineTest {
  final CohortStateMachine sm = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS);

  /** Wall and monotonic clocks the test sets. */
  static final class ManualClock implements ServerClock {
    long wallMs;
    long monotonicNanos;

    @Override
    public long wallMs() {
      return wallMs;
    }

    @Override
    public long monotonicNanos() {
      return monotonicNanos;
    }

    void advanceMs(long ms) {
      wallMs += ms;
      monotonicNanos += ms * 1_000_000;
    }
  }

  static RaftClientRequest request(byte[] message) {
    return RaftClientRequest.newBuilder().setClientId(ClientId.randomId())
        .setServerId(RaftPeerId.valueOf("n1")).setGroupId(io.cohort.client.CohortGroup.ID).setCallId(1)
        .setMessage(Message.valueOf(Envelopes.internal(message))).setType(RaftClientRequest.writeRequestType()).build();
  }

  private TransactionContext start(byte[] message) throws Exception {
    return sm.startTransaction(request(message));
  }

  private static long stamp(TransactionContext trx) throws Exception {
    assertNull(trx.getException());
    return LogEntry.parseFrom(trx.getStateMachineLogEntry().getLogData().toByteArray()).getTimeMs();
  }

  /** As Ratis does on the leader: append at {@code index}, then apply the same context. */
  static Result applyOnLeader(CohortStateMachine leader, TransactionContext trx, long term, long index)
      throws Exception {
    trx.initLogEntry(term, index);
    return Result.parseFrom(Messages.bytes(leader.applyTransaction(trx).get()));
  }

  private Result apply(long index, byte[] logData) throws Exception {
    return apply(sm, index, logData);
  }

  private static Result apply(CohortStateMachine sm, long index, byte[] logData) throws Exception {
    LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(index)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder().setLogData(Messages.wrap(logData)))
        .build();
    TransactionContext trx = TransactionContext.newBuilder().setStateMachine(sm).setLogEntry(entry).build();
    return Result.parseFrom(Messages.bytes(sm.applyTransaction(trx).get()));
  }

  private static byte[] stamped(Command c, long timeMs) {
    return LogEntry.newBuilder().setTimeMs(timeMs).setCommand(c.toByteString()).build().toByteArray();
  }

  @Test
  void R6_theLeaderStampsItsClockAroundTheClientsCommandBytes() throws Exception {
    byte[] command = createTopic("t", 2).toByteArray();
    long before = System.currentTimeMillis();
    TransactionContext trx = start(command);
    long after = System.currentTimeMillis();
    assertNull(trx.getException());
    LogEntry entry = LogEntry.parseFrom(trx.getStateMachineLogEntry().getLogData().toByteArray());
    assertArrayEquals(command, entry.getCommand().toByteArray());
    assertTrue(entry.getTimeMs() >= before && entry.getTimeMs() <= after);
  }

  @Test
  void R6_aWallClockStepWithinATermChangesNoStamp_aNewTermStartsFromTheStatesTime() throws Exception {
    ManualClock clock = new ManualClock();
    clock.wallMs = 1_000_000;
    CohortStateMachine leader = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS, clock);
    leader.leaderReady(1);
    byte[] topic = createTopic("t", 1).toByteArray();
    assertEquals(1_000_000, stamp(leader.startTransaction(request(topic), 1, true)));
    clock.advanceMs(100);
    clock.wallMs += 12_000; // NTP steps forward
    assertEquals(1_000_100, stamp(leader.startTransaction(request(topic), 1, true)));
    clock.advanceMs(100);
    clock.wallMs -= 3_600_000; // and back by an hour
    TransactionContext trx = leader.startTransaction(request(topic), 1, true);
    assertEquals(1_000_200, stamp(trx));
    applyOnLeader(leader, trx, 1, 1);

    // Term 2 on a wall clock an hour behind: stamps continue from the state's time, not the wall's.
    clock.advanceMs(50);
    leader.leaderReady(2);
    assertEquals(1_000_200, stamp(leader.startTransaction(request(topic), 2, true)));
    clock.advanceMs(10);
    assertEquals(1_000_210, stamp(leader.startTransaction(request(topic), 2, true)));
  }

  @Test
  void R6_aWriteBeforeNotifyLeaderReadyStartsTheTermItself() throws Exception {
    ManualClock clock = new ManualClock();
    clock.wallMs = 5_000;
    CohortStateMachine leader = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS, clock);
    assertEquals(Code.OK, apply(leader, 1, stamped(createTopic("t", 1), 9_000)).getCode());
    // Ratis marks the leader ready just before it calls notifyLeaderReady: a write may come between.
    assertEquals(9_000, stamp(leader.startTransaction(request(createTopic("u", 1).toByteArray()), 3, true)));
    clock.advanceMs(20);
    leader.leaderReady(3); // already started: no new base
    assertEquals(9_020, stamp(leader.startTransaction(request(createTopic("u", 1).toByteArray()), 3, true)));
  }

  @Test
  void R9_tooLargeOrInvalidCommandsAreRefusedWithACodeBeforeTheLog() throws Exception {
    int limit = Limits.DEFAULTS.maxCommandBytes();
    assertRefused(Code.LIMIT_EXCEEDED, "a command is at most " + limit + " bytes, got " + (limit + 1),
        start(sized(limit + 1)));
    assertRefused(Code.LIMIT_EXCEEDED, "got " + (5 << 20), start(sized(5 << 20)));
    assertRefused(Code.INVALID_ARGUMENT, "empty command", start(Command.newBuilder()
        .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder().addField(99,
            com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                .addLengthDelimited(com.google.protobuf.ByteString.copyFrom(new byte[200 * 1024])).build())
            .build()).build().toByteArray()));
    int cap = RatisSettings.maxCommandBytes(RatisSettings.sizesOnly());
    assertEquals(4 << 20, cap);
    assertRefused(Code.INVALID_ARGUMENT, "max_command_bytes is at most " + cap, start(setMaxCommandBytes(cap + 1)));
    assertNull(start(sized(limit)).getException(), "exactly the limit is accepted");
  }

  @Test
  void R9_theSizeLimitIsTheAppliedOne() throws Exception {
    int twoMiB = 2 << 20;
    assertNotNull(start(sized(twoMiB)).getException());
    assertEquals(Code.OK, apply(sm, 1, stamped(Command.parseFrom(setMaxCommandBytes(twoMiB)), 1000)).getCode());
    assertNull(start(sized(twoMiB)).getException());
    assertNotNull(start(sized(twoMiB + 1)).getException());
  }

  @Test
  void parseOnce_theLeaderAppliesTheParsedCommandAndAFollowerTheLogBytes_sameResultsSameState() throws Exception {
    ManualClock clock = new ManualClock();
    clock.wallMs = 1_000;
    CohortStateMachine leader = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS, clock);
    CohortStateMachine follower = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS);
    leader.leaderReady(1);
    List<Command> commands = List.of(createTopic("t", 4), createGroup("g", "t", 10_000), join("g", "A"),
        join("g", "B"), createTopic("t", 4));
    long index = 0;
    for (Command c : commands) {
      clock.advanceMs(7);
      TransactionContext trx = leader.startTransaction(request(c.toByteArray()), 1, true);
      CommandAdmission.Admitted admitted = assertInstanceOf(CommandAdmission.Admitted.class,
          trx.getStateMachineContext());
      assertEquals(c, admitted.command());
      Result onLeader = applyOnLeader(leader, trx, 1, ++index);
      Result onFollower = Result.parseFrom(Messages.bytes(follower.applyTransaction(TransactionContext.newBuilder()
          .setStateMachine(follower).setLogEntry(trx.getLogEntry()).build()).get()));
      assertEquals(onFollower, onLeader);
    }
    assertEquals(follower.digest(), leader.digest());
  }

  private static void assertRefused(Code code, String text, TransactionContext trx) {
    Exception e = trx.getException();
    assertInstanceOf(IllegalArgumentException.class, e);
    assertTrue(e.getMessage().startsWith(code.name() + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(text), e.getMessage());
    assertNull(trx.getStateMachineContext());
  }

  /** A valid command of exactly {@code bytes} bytes: a commit whose cursors fill it. */
  static byte[] sized(int bytes) {
    CommitCheckpoints.Builder b = CommitCheckpoints.newBuilder().setGroup("g").setConsumerId("c")
        .setSessionToken(com.google.protobuf.ByteString.copyFrom(new byte[16]));
    CheckpointEntry full = cursor("x".repeat(1000));
    int base = Command.newBuilder().setCommitCheckpoints(b).build().getSerializedSize();
    int one = Command.newBuilder().setCommitCheckpoints(b.clone().addEntries(full)).build().getSerializedSize();
    int perEntry = Command.newBuilder().setCommitCheckpoints(b.clone().addEntries(full).addEntries(full)).build()
        .getSerializedSize() - one;
    int n = Math.max(0, (bytes - base - (perEntry - 1000)) / perEntry);
    for (int entries = n; entries >= Math.max(0, n - 1); entries--) {
      CommitCheckpoints.Builder filled = b.clone().addAllEntries(java.util.Collections.nCopies(entries, full));
      for (int pad = 0; pad <= 1024; pad++) {
        Command c = Command.newBuilder().setCommitCheckpoints(filled.clone().addEntries(cursor("y".repeat(pad))))
            .build();
        if (c.getSerializedSize() == bytes) {
          return c.toByteArray();
        }
      }
    }
    throw new IllegalStateException("no command of " + bytes + " bytes");
  }

  private static CheckpointEntry cursor(String cursor) {
    return CheckpointEntry.newBuilder().setTopic("t").setPartition(0).setEpoch(1).setCursor(cursor).build();
  }

  private static byte[] setMaxCommandBytes(int bytes) {
    return Command.newBuilder().setSetLimits(SetLimits.newBuilder()
        .setLimits(LimitsRecord.newBuilder().setMaxCommandBytes(bytes))).build().toByteArray();
  }

  @Test
  void R8_invalidCommandsAreRejectedBeforeTheLog() throws Exception {
    for (byte[] bad : new byte[][] {{(byte) 0xff}, {}}) {
      Exception e = start(bad).getException();
      assertInstanceOf(IllegalArgumentException.class, e);
      assertTrue(e.getMessage().startsWith("INVALID_ARGUMENT: "), e.getMessage());
    }
  }

  @Test
  void R8_anUndecodableLogEntryGetsACodeAndIsNeverSkipped() throws Exception {
    Result r = apply(1, new byte[] {(byte) 0xff, 0x01});
    assertEquals(Code.INVALID_ARGUMENT, r.getCode());
    assertEquals(1, sm.appliedIndex());
    assertEquals(Code.OK, apply(2, stamped(createTopic("t", 1), 1000)).getCode());
    assertEquals(2, sm.appliedIndex());
  }

  @Test
  void anUndecodableQueryGetsInvalidArgument() throws Exception {
    QueryResult r = QueryResult.parseFrom(Messages.bytes(sm.query(Messages.of(new byte[] {(byte) 0xff})).get()));
    assertEquals(Code.INVALID_ARGUMENT, r.getCode());
  }

  @Test
  void R10_aStaleReadWaitsUntilTheLocalApplyReachesItsIndex() throws Exception {
    Message query = Message.valueOf(Envelopes.internal(Commands.describeGroup("g").toByteArray()));
    CompletableFuture<Message> read = sm.queryStale(query, 3);
    apply(1, stamped(createTopic("t", 1), 1000));
    apply(2, stamped(createGroup("g", "t", 10_000), 1001));
    assertFalse(read.isDone());
    sm.notifyTermIndexUpdated(1, 3); // a configuration entry at 3 counts as applied too
    QueryResult r = QueryResult.parseFrom(Messages.bytes(read.get()));
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    assertEquals("g", r.getGroup().getSummary().getGroup());
    assertTrue(sm.queryStale(query, 2).isDone());
  }

  @Test
  void shedding_aHeartbeatIsShedBeforeTheLogOnlyWhileTheWriteQueueIsBeyondItsBound() throws Exception {
    CohortStateMachine leader = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS);
    leader.leaderReady(1);
    leader.shedHeartbeatsAbove(100);
    byte[] hb = Commands.join("g", "a").toByteArray();
    byte[] topic = createTopic("t", 1).toByteArray();

    TransactionContext shed = leader.startTransaction(request(hb), 1, true, 101); // 200 ms x 101 / 100
    assertNotNull(shed.getException(), "shed");
    assertTrue(shed.getException().getMessage().startsWith("RETRY_LATER: retry after 202 ms: "),
        shed.getException().getMessage());
    String far = leader.startTransaction(request(hb), 1, true, 10_000).getException().getMessage();
    assertTrue(far.startsWith("RETRY_LATER: retry after 2000 ms: "), "the wait grows with the queue, capped: " + far);

    assertNull(leader.startTransaction(request(hb), 1, true, 100).getException(), "at the bound: admitted");
    assertNull(leader.startTransaction(request(topic), 1, true, 10_000).getException(), "only heartbeats are shed");
  }

  @Test
  void shedding_aShedHeartbeatOfTheCurrentSessionRenewsItsMember_aJoinOrAnotherSessionDoesNot() throws Exception {
    CohortStateMachine leader = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS);
    leader.leaderReady(1);
    applyOnLeader(leader, leader.startTransaction(request(createTopic("t", 1).toByteArray()), 1, true), 1, 1);
    applyOnLeader(leader, leader.startTransaction(request(Commands.createGroup("g", "t", 10_000).toByteArray()), 1,
        true), 1, 2);
    Result joined = applyOnLeader(leader, leader.startTransaction(request(Commands.join("g", "a").toByteArray()), 1,
        true), 1, 3);
    assertEquals(Code.OK, joined.getCode(), joined.getMessage());
    leader.shedHeartbeatsAbove(0);
    com.google.protobuf.ByteString session = joined.getHeartbeat().getSessionToken();

    byte[] other = Commands.heartbeat("g", "a", com.google.protobuf.ByteString.copyFrom(new byte[16]),
        joined.getHeartbeat().getGrantsList()).toByteArray();
    assertNotNull(leader.startTransaction(request(other), 1, true, 1).getException());
    assertNotNull(leader.startTransaction(request(Commands.join("g", "b").toByteArray()), 1, true, 1).getException());
    assertEquals(0, leader.pendingRenewals(), "neither a join nor a replaced session renews anyone");

    byte[] hb = Commands.heartbeat("g", "a", session, joined.getHeartbeat().getGrantsList()).toByteArray();
    TransactionContext shed = leader.startTransaction(request(hb), 1, true, 1);
    assertTrue(shed.getException().getMessage().startsWith("RETRY_LATER"), shed.getException().getMessage());
    assertEquals(1, leader.pendingRenewals(), "its member counts as heard: the next tick renews it");
    assertEquals(1, leader.shedHeartbeatsRenewed());
    assertEquals(0, leader.writesInFlight(), "a shed heartbeat is not in flight");
  }
}
