package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
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

  private TransactionContext start(byte[] message) throws Exception {
    RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(ClientId.randomId())
        .setServerId(RaftPeerId.valueOf("n1")).setGroupId(io.cohort.client.CohortGroup.ID).setCallId(1)
        .setMessage(Messages.of(message)).setType(RaftClientRequest.writeRequestType()).build();
    return sm.startTransaction(request);
  }

  private Result apply(long index, byte[] logData) throws Exception {
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
    Message query = Messages.of(Commands.describeGroup("g"));
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
}
