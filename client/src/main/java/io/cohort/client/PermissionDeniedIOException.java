package io.cohort.client;

import java.io.IOException;

/**
 * What a server's gRPC interceptor refuses with (R11): its name travels in the {@code
 * exception-type} trailer and Ratis' client instantiates it with the refusal's one-line
 * description. The client's retry policy never retries it, so the refusal is final; {@link
 * Failures} turns it into a {@link CohortRejectedException} with PERMISSION_DENIED.
 */
public final class PermissionDeniedIOException extends IOException {
  private static final long serialVersionUID = 1L;

  public PermissionDeniedIOException(String message) {
    super(message);
  }
}
