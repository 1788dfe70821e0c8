package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.util.List;

@Parameters(commandDescription = "Benchmarks against a cluster (commit, heartbeat, rebalance, expiry, failover, snapshot)")
public final class Bench implements CliCommand {
  @Parameter(description = "WORKLOAD [options]")
  List<String> args;

  @Override
  public int run(CliContext ctx) {
    ctx.err.println("cohort: bench is not built yet (issue 6); see docs/BENCHMARKS.md for the figures measured so far");
    return 1;
  }
}
