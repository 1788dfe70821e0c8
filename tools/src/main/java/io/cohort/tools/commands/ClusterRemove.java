package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Remove a voter (leadership is handed off first if it leads); the removed node stops "
    + "by itself")
public final class ClusterRemove implements CliCommand {
  @Parameter(description = "ID", required = true, arity = 1)
  List<String> id;

  @ParametersDelegate
  Membership.Options options = new Membership.Options();

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    var r = ctx.admin(cluster).remove(id.get(0), options.waitDuration(), ctx.err::println);
    return Membership.report(ctx, options, r);
  }
}
