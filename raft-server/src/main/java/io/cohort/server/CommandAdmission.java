package io.cohort.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.Acl;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.Stamp;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.Result;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The leader's checks of a client's command before anything is appended: its size against the
 * replicated {@code max_command_bytes} (and this server's cap, what its Ratis log entries can
 * hold), that it is an envelope holding a command that decodes, the core's stateless validation
 * (R9) and the caller's rights in the applied ACL (R11; apply checks them again). A refusal is an
 * {@link IllegalArgumentException} with the message {@code "CODE: text"}: Ratis returns it to the
 * client inside a {@code StateMachineException}, and the client maps the code to a typed
 * rejection. An accepted command gets the leader's stamp: its time (R6), the principal, and for a
 * join a new random session token (R11).
 */
final class CommandAdmission {
  /**
   * A command accepted on the leader: parsed once, carried to {@code applyTransaction} in the
   * transaction's state machine context; {@code commandBytes} the size of the command as logged
   * (what apply checks against the size limit), {@code validUnder} the limits the leader validated
   * it under (null when read from the log), {@code logData} the {@code LogEntry} appended, {@code
   * ticket} its place among the leader's {@link PendingWrites} (0 when read from the log).
   */
  record Admitted(Command command, int commandBytes, Limits validUnder, Stamp stamp, byte[] logData, long ticket) {
    Admitted withTicket(long t) {
      return new Admitted(command, commandBytes, validUnder, stamp, logData, t);
    }
  }

  /** A refusal: the code and the kind of command ({@code BODY_NOT_SET} if it did not decode), for metrics. */
  static final class Refused extends IllegalArgumentException {
    private final transient Code code;
    private final transient Command.BodyCase command;
    private final transient String principal;

    Refused(Code code, Command.BodyCase command, String principal, String message) {
      super(code.name() + ": " + message);
      this.code = code;
      this.command = command;
      this.principal = principal;
    }

    Code code() {
      return code;
    }

    Command.BodyCase command() {
      return command;
    }

    /** The caller, when the envelope could be read ("?" otherwise). */
    String principal() {
      return principal;
    }
  }

  private CommandAdmission() {}

  /**
   * @param content the request's message: the interceptor's envelope around the command
   * @param aclFor the ACL to check the principal against (the state machine may wait for the
   *     bootstrap admins first)
   * @param capBytes the largest command this server's Ratis settings carry ({@link
   *     RatisSettings#maxCommandBytes})
   * @param stampMs the leader's time for the command, read only for a command that is accepted
   * @param newToken 16 random bytes, drawn only for an accepted join
   * @throws Refused "CODE: text" when the command is refused
   */
  static Admitted admit(ByteString content, Limits limits, Function<String, Acl> aclFor, int capBytes,
      ToLongFunction<Command> stampMs, Supplier<com.google.protobuf.ByteString> newToken) {
    // gRPC's message limit bounds the content (RatisSettings.COMMAND_CEILING): opening it is cheap enough.
    int maxBytes = Math.min(limits.maxCommandBytes(), capBytes);
    Envelopes.Opened opened;
    try {
      opened = Envelopes.open(content);
    } catch (InvalidProtocolBufferException e) {
      throw refusal(Code.INVALID_ARGUMENT, null, "?", "not a Cohort request: " + e.getMessage());
    }
    String principal = opened.principal();
    int size = opened.payload().size();
    if (size > maxBytes) {
      throw refusal(Code.LIMIT_EXCEEDED, null, principal, "a command is at most " + maxBytes + " bytes, got " + size);
    }
    Command command;
    try {
      command = Command.parseFrom(opened.payload());
    } catch (InvalidProtocolBufferException e) {
      throw refusal(Code.INVALID_ARGUMENT, null, principal, "not a Cohort command: " + e.getMessage());
    }
    Result invalid = Coordinator.validate(command, size, limits);
    if (invalid == null) {
      invalid = Coordinator.authorize(command, principal, aclFor.apply(principal));
    }
    if (invalid != null) {
      throw refusal(invalid.getCode(), command, principal, invalid.getMessage());
    }
    if (command.hasSetLimits() && command.getSetLimits().getLimits().hasMaxCommandBytes()
        && command.getSetLimits().getLimits().getMaxCommandBytes() > capBytes) {
      throw refusal(Code.INVALID_ARGUMENT, command, principal, "max_command_bytes is at most " + capBytes
          + " on this cluster (what its Raft log entries hold), got "
          + command.getSetLimits().getLimits().getMaxCommandBytes());
    }
    boolean join = command.hasHeartbeat() && command.getHeartbeat().getSessionToken().isEmpty();
    Stamp stamp = new Stamp(stampMs.applyAsLong(command), principal,
        join ? newToken.get() : com.google.protobuf.ByteString.EMPTY);
    byte[] logData = LogEntry.newBuilder().setTimeMs(stamp.timeMs()).setCommand(opened.payload())
        .setPrincipal(principal).setSessionToken(stamp.sessionToken()).build().toByteArray();
    return new Admitted(command, size, limits, stamp, logData, 0);
  }

  /**
   * A log entry as followers and replay read it: the command and the leader's stamp, parsed once;
   * null when it does not decode.
   */
  static Admitted parseLogged(ByteString logData) {
    try {
      LogEntry entry = LogEntry.parseFrom(logData.asReadOnlyByteBuffer());
      return new Admitted(Command.parseFrom(entry.getCommand()), entry.getCommand().size(), null,
          Coordinator.stampOf(entry), null, 0);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  static Refused refusal(Code code, Command command, String principal, String message) {
    return new Refused(code, command == null ? Command.BodyCase.BODY_NOT_SET : command.getBodyCase(), principal,
        message);
  }
}
