package io.cohort.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.Result;
import java.util.function.LongSupplier;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The leader's checks of a client's command before anything is appended (R9): its size against the
 * replicated {@code max_command_bytes} (and this server's cap, what its Ratis log entries can
 * hold), that it decodes, and the core's stateless validation. A refusal is an {@link
 * IllegalArgumentException} with the message {@code "CODE: text"}: Ratis returns it to the client
 * inside a {@code StateMachineException}, and the client maps the code to a typed rejection.
 */
final class CommandAdmission {
  /**
   * A command accepted on the leader: parsed once, carried to {@code applyTransaction} in the
   * transaction's state machine context; {@code logData} is the {@code LogEntry} appended.
   */
  record Admitted(Command command, long timeMs, byte[] logData) {}

  /** A refusal: the code and the kind of command ({@code BODY_NOT_SET} if it did not decode), for metrics. */
  static final class Refused extends IllegalArgumentException {
    private final transient Code code;
    private final transient Command.BodyCase command;

    Refused(Code code, Command.BodyCase command, String message) {
      super(code.name() + ": " + message);
      this.code = code;
      this.command = command;
    }

    Code code() {
      return code;
    }

    Command.BodyCase command() {
      return command;
    }
  }

  private CommandAdmission() {}

  /**
   * @param capBytes the largest command this server's Ratis settings carry ({@link
   *     RatisSettings#maxCommandBytes})
   * @param stampMs the leader's time, read only for a command that is accepted
   * @throws IllegalArgumentException "CODE: text" when the command is refused
   */
  static Admitted admit(ByteString content, Limits limits, int capBytes, LongSupplier stampMs) {
    int size = content.size();
    int maxBytes = Math.min(limits.maxCommandBytes(), capBytes);
    if (size > maxBytes) {
      throw refusal(Code.LIMIT_EXCEEDED, null, "a command is at most " + maxBytes + " bytes, got " + size);
    }
    Command command;
    try {
      command = Command.parseFrom(content.asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      throw refusal(Code.INVALID_ARGUMENT, null, "not a Cohort command: " + e.getMessage());
    }
    Result invalid = Coordinator.validate(command, size, limits);
    if (invalid != null) {
      throw refusal(invalid.getCode(), command, invalid.getMessage());
    }
    if (command.hasSetLimits() && command.getSetLimits().getLimits().hasMaxCommandBytes()
        && command.getSetLimits().getLimits().getMaxCommandBytes() > capBytes) {
      throw refusal(Code.INVALID_ARGUMENT, command, "max_command_bytes is at most " + capBytes
          + " on this cluster (what its Raft log entries hold), got "
          + command.getSetLimits().getLimits().getMaxCommandBytes());
    }
    long timeMs = stampMs.getAsLong();
    byte[] logData = LogEntry.newBuilder().setTimeMs(timeMs)
        .setCommand(UnsafeByteOperations.unsafeWrap(content.asReadOnlyByteBuffer())).build().toByteArray();
    return new Admitted(command, timeMs, logData);
  }

  /**
   * A log entry as followers and replay read it: the command and the leader's stamp, parsed once
   * (the log data is not copied); null when it does not decode.
   */
  static Admitted parseLogged(ByteString logData) {
    try {
      LogEntry entry = LogEntry.parseFrom(logData.asReadOnlyByteBuffer());
      return new Admitted(Command.parseFrom(entry.getCommand()), entry.getTimeMs(), null);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  static Refused refusal(Code code, Command command, String message) {
    return new Refused(code, command == null ? Command.BodyCase.BODY_NOT_SET : command.getBodyCase(), message);
  }
}
