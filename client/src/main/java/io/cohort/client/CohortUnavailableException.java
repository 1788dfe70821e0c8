package io.cohort.client;

/**
 * The cluster did not answer within the client's retry budget (no leader, no quorum, nodes
 * down, timeouts). Retriable. A write that failed this way may or may not have been applied. No
 * stack trace of its own: the cause, when there is one, has the transport's.
 */
public class CohortUnavailableException extends CohortException {
  public CohortUnavailableException(String message, Throwable cause) {
    super(message, cause, false);
  }

  @Override
  public boolean isRetriable() {
    return true;
  }
}
