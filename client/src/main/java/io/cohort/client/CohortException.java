package io.cohort.client;

/** Base of the client's typed failures. Unchecked, so it passes through futures and lambdas. */
public class CohortException extends RuntimeException {
  public CohortException(String message, Throwable cause) {
    super(message, cause);
  }

  /** True when the same request may succeed later (no leader yet, timeouts, a node down). */
  public boolean isRetriable() {
    return false;
  }
}
