package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Replace voter OLD by a new node (started empty with `cohort server --join`) in one "
    + "configuration change; OLD stops by itself")
public final class ClusterReplace implements CliCommand {
  @Parameter(description = "OLD NEW=HOST:PORT", required = true, arity = 2)
  List<String> args;

  @ParametersDelegate
  Membership.Options options = new Membership.Options();

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    var p = Membership.peer(args.get(1));
    var r = ctx.admin(cluster).replace(args.get(0), p, options.waitDuration(), ctx.err::println);
    return Membership.report(ctx, options, r);
  }
}
