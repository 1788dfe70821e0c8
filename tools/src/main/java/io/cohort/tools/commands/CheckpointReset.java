package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Reset a checkpoint while the group runs: the holder is fenced and restarts from CURSOR (R3)")
public final class CheckpointReset implements CliCommand {
  @Parameter(description = "GROUP TOPIC PARTITION CURSOR", required = true, arity = 4)
  List<String> args;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    int partition = Args.partition(args.get(2));
    ctx.client(cluster).blocking().resetCheckpoint(args.get(0), args.get(1), partition, args.get(3));
    ctx.out.println("reset " + args.get(0) + " " + args.get(1) + "/" + partition + " to " + args.get(3));
    return 0;
  }
}
