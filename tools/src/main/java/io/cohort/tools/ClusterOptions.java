package io.cohort.tools;

import com.beust.jcommander.Parameter;
import io.cohort.client.ReadMode;

/** The options every command that talks to the cluster takes. */
public final class ClusterOptions {
  @Parameter(names = "--peers", description = "n1=host:port,n2=host:port,n3=host:port (default: $COHORT_PEERS, else the local cluster)")
  public String peers;

  @Parameter(names = "--stale", description = "read from any replica, possibly behind the leader (R10)")
  public boolean stale;

  public ReadMode readMode() {
    return stale ? ReadMode.staleAny() : ReadMode.linearizable();
  }
}
