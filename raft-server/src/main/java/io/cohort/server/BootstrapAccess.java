package io.cohort.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * R11: the ACL is replicated state. A new leader whose applied ACL never had its bootstrap admins
 * appends one {@code BootstrapAccess} with the configured ones ({@code --admin}, and {@code
 * anonymous} on an insecure node); once applied, later settings change nothing (as {@link
 * BootstrapLimits}).
 */
final class BootstrapAccess {
  private static final Logger LOG = LoggerFactory.getLogger(BootstrapAccess.class);

  private BootstrapAccess() {}

  /** Runs on the server's own executor (never a state machine callback); does not wait. */
  static void append(LocalWrites writes, List<String> admins) {
    Command c = Command.newBuilder().setBootstrapAccess(
        io.cohort.statemachine.proto.BootstrapAccess.newBuilder().addAllAdmins(admins)).build();
    try {
      writes.submit(Messages.of(c)).whenComplete((reply, e) -> {
        Result r = null;
        try {
          r = e == null && reply.isSuccess() ? Result.parseFrom(Messages.bytes(reply.getMessage())) : null;
        } catch (InvalidProtocolBufferException ignored) {
          // reported below as not set
        }
        if (r != null && r.getCode() == Code.OK) {
          LOG.info("[{}] {}", writes.self(), r.getMessage());
        } else {
          LOG.warn("[{}] bootstrap admins not set (the next leader tries again): {}", writes.self(),
              r != null ? r.getCode() + ": " + r.getMessage() : e != null ? e.toString() : reply.getException());
        }
      });
    } catch (IOException | RuntimeException e) {
      LOG.warn("[{}] bootstrap admins not submitted: {}", writes.self(), e.toString());
    }
  }
}
