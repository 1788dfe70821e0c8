package io.cohort.server;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;

/** {@code cohort cluster status [--peers ...] [--json]}. */
@Parameters(commandNames = "status", commandDescription = "Each peer: role, term, commit and applied index, reachable")
public final class StatusOptions {
  @Parameter(names = "--peers", description = "Every node as id=host:port,... (default: $COHORT_PEERS or the local cluster)")
  public String peers;

  @Parameter(names = "--json", description = "Print one JSON document")
  public boolean json;

  @Parameter(names = "--timeout-ms", description = "Per-peer timeout")
  public long timeoutMs = 3000;

  @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
  public boolean help;
}
