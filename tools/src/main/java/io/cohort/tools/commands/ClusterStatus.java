package io.cohort.tools.commands;

import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.server.StatusOptions;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;

@Parameters(commandDescription = "Each peer: reachable, role, term, commit and applied index (exit 1 unless all answer and one leads)")
public final class ClusterStatus implements CliCommand {
  @ParametersDelegate
  StatusOptions options = new StatusOptions();

  @Override
  public int run(CliContext ctx) {
    return io.cohort.server.ClusterStatus.run(options, ctx.env(), ctx.out, ctx.err);
  }
}
