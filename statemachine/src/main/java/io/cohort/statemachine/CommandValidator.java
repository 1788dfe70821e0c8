package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;

/**
 * Stateless checks of a command (R9): what the leader can refuse before the log because apply
 * would refuse it whatever the state.
 */
final class CommandValidator {
  private CommandValidator() {}

  static Result validate(Command c, int sizeBytes, Limits limits) {
    if (sizeBytes > limits.maxCommandBytes()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a command is at most " + limits.maxCommandBytes()
          + " bytes, got " + sizeBytes);
    }
    if (c.getBodyCase() == Command.BodyCase.BODY_NOT_SET) {
      return Results.rejected(Code.INVALID_ARGUMENT, "empty command (no known body)");
    }
    return null;
  }
}
