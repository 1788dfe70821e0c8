package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Delete a group and its checkpoints (refused while it has members, unless --force)")
public final class GroupDelete implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @Parameter(names = "--force", description = "delete even while consumers are live")
  boolean force;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    ctx.client(cluster).blocking().deleteGroup(group.get(0), force);
    ctx.out.println("deleted group " + group.get(0));
    return 0;
  }
}
