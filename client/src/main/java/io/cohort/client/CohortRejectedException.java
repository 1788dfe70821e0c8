package io.cohort.client;

import io.cohort.statemachine.proto.Code;

/** The state machine answered and refused the request (R8): the code says why; nothing changed. */
public class CohortRejectedException extends CohortException {
  private final Code code;

  public CohortRejectedException(Code code, String message) {
    super(code + ": " + message, null);
    this.code = code;
  }

  public Code code() {
    return code;
  }
}
