package io.cohort.tools;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import java.time.Duration;

/** The options of every command that talks to a cluster. */
public final class ClusterOptions {
  public static final int DEFAULT_TIMEOUT_S = 10;

  @Parameter(names = "--peers", description = "the cluster as id=host:port,... (IPv6: id=[::1]:port; default: $COHORT_PEERS, else the local cluster)")
  public String peers;

  @Parameter(names = "--timeout", description = "seconds to wait for the cluster before giving up")
  public int timeoutSeconds = DEFAULT_TIMEOUT_S;

  public Duration timeout() {
    if (timeoutSeconds < 1) {
      throw new ParameterException("--timeout must be at least 1 (seconds), got " + timeoutSeconds);
    }
    return Duration.ofSeconds(timeoutSeconds);
  }
}
