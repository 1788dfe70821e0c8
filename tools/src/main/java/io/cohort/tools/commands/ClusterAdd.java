package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Add a voter: a new node started empty with `cohort server --join`; the leader catches it "
    + "up before the configuration that adds it commits (progress on stderr)")
public final class ClusterAdd implements CliCommand {
  @Parameter(description = "ID=HOST:PORT", required = true, arity = 1)
  List<String> peer;

  @ParametersDelegate
  Membership.Options options = new Membership.Options();

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    var p = Membership.peer(peer.get(0));
    var r = ctx.admin(cluster).add(p, options.waitDuration(), ctx.err::println);
    return Membership.report(ctx, options, r);
  }
}
