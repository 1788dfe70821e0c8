package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;

@Parameters(commandDescription = "Hand leadership to another voter (--to ID, default the most caught-up one), e.g. "
    + "before maintenance of the leader's machine")
public final class LeaderTransfer implements CliCommand {
  @Parameter(names = "--to", description = "the voter to lead next")
  String to;

  @ParametersDelegate
  Membership.Options options = new Membership.Options();

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    var r = ctx.admin(cluster).transferLeadership(to, options.waitDuration(), ctx.err::println);
    return Membership.report(ctx, options, r);
  }
}
