package io.cohort.client;

/** Base of the client's typed failures. Unchecked, so it passes through futures and lambdas. */
public class CohortException extends RuntimeException {
  public CohortException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Without a stack trace, for answers and timeouts: the trace would be that of the thread that
   * completed the future, which says nothing about the caller, and filling it in costs more than
   * the rest of a refusal (an overloaded leader sheds thousands a second).
   */
  protected CohortException(String message, Throwable cause, boolean withStackTrace) {
    super(message, cause, true, withStackTrace);
  }

  /** True when the same request may succeed later (no leader yet, timeouts, a node down). */
  public boolean isRetriable() {
    return false;
  }
}
