package io.cohort.server;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetLimits;
import java.io.IOException;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * R9: limits are replicated state, "set at bootstrap, changed by an admin command". A new leader
 * whose applied state never had its limits set appends one {@code SetLimits} with the configured
 * bootstrap limits; once applied they are explicit, and later bootstrap settings change nothing.
 */
final class BootstrapLimits {
  private static final Logger LOG = LoggerFactory.getLogger(BootstrapLimits.class);

  private BootstrapLimits() {}

  /**
   * {@code --limit NAME=VALUE} or {@code limit.NAME=VALUE} entries, NAME a field of {@code
   * LimitsRecord} (e.g. {@code max_slots}), VALUE a positive integer.
   *
   * @throws ConfigException naming the limit that is unknown or out of range
   */
  static LimitsRecord parse(Map<String, String> values) {
    LimitsRecord.Builder b = LimitsRecord.newBuilder();
    for (Map.Entry<String, String> e : values.entrySet()) {
      String name = e.getKey().trim();
      FieldDescriptor field = LimitsRecord.getDescriptor().findFieldByName(name);
      if (field == null) {
        throw new ConfigException("unknown limit '" + name + "' (known: " + LimitsRecord.getDescriptor()
            .getFields().stream().map(FieldDescriptor::getName).collect(Collectors.joining(", ")) + ")");
      }
      long value;
      try {
        value = Long.parseLong(e.getValue().trim());
      } catch (NumberFormatException nfe) {
        throw new ConfigException("limit " + name + " is not a number: '" + e.getValue() + "'");
      }
      boolean int32 = field.getType() == FieldDescriptor.Type.INT32;
      if (value <= 0 || (int32 && value > Integer.MAX_VALUE)) {
        throw new ConfigException("limit " + name + " must be between 1 and "
            + (int32 ? Integer.MAX_VALUE : Long.MAX_VALUE) + ": " + value);
      }
      b.setField(field, int32 ? (Object) (int) value : (Object) value);
    }
    LimitsRecord limits = b.build();
    if (limits.hasMaxCommandBytes() && limits.getMaxCommandBytes() < Limits.MIN_COMMAND_BYTES) {
      throw new ConfigException("limit max_command_bytes must be at least " + Limits.MIN_COMMAND_BYTES
          + ": " + limits.getMaxCommandBytes());
    }
    return limits;
  }

  /** Runs on the server's own executor (never a state machine callback); does not wait. */
  static void append(LocalWrites writes, LimitsRecord limits) {
    Command setLimits = Command.newBuilder().setSetLimits(SetLimits.newBuilder().setLimits(limits)).build();
    try {
      writes.submit(Messages.of(setLimits)).whenComplete((reply, e) -> {
        Result r = null;
        try {
          r = e == null && reply.isSuccess() ? Result.parseFrom(Messages.bytes(reply.getMessage())) : null;
        } catch (InvalidProtocolBufferException ignored) {
          // reported below as not set
        }
        if (r != null && r.getCode() == Code.OK) {
          LOG.info("[{}] bootstrap limits set: {}", writes.self(), r.getMessage());
        } else {
          LOG.warn("[{}] bootstrap limits not set (the next leader tries again): {}", writes.self(),
              r != null ? r.getCode() + ": " + r.getMessage() : e != null ? e.toString() : reply.getException());
        }
      });
    } catch (IOException | RuntimeException e) {
      LOG.warn("[{}] bootstrap limits not submitted: {}", writes.self(), e.toString());
    }
  }
}
