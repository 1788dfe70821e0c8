package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DeleteGroup;
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

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    Writes.report(ctx, json, Writes.send(ctx.client(cluster), Command.newBuilder()
        .setDeleteGroup(DeleteGroup.newBuilder().setGroup(group.get(0)).setForce(force)).build()));
    return 0;
  }
}
