package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Delete a group's checkpoints: the next holder starts at the group's start position; "
    + "dry run unless --execute; holders are fenced (R3)")
public final class CheckpointDelete implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @ParametersDelegate
  CheckpointScope scope = new CheckpointScope();

  @Parameter(names = "--execute", description = "apply it (one replicated command, all or none); without it: a dry run")
  boolean execute;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    scope.require();
    CohortClient client = ctx.client(cluster);
    GroupView view = BlockingCohortClient.await(client.describeGroup(group.get(0)));
    List<ResetPlan.Row> rows = scope.select(view).stream()
        .map(s -> new ResetPlan.Row(s, ResetPlan.Target.START)).toList();
    return new ResetPlan(group.get(0), rows).run(ctx, client, execute, json);
  }
}
