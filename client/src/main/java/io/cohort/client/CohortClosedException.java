package io.cohort.client;

/** The client (or consumer) was closed before or while the request ran. */
public class CohortClosedException extends CohortException {
  public CohortClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
