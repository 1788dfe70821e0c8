package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Set a partition's load weight (R4; default 1.0)")
public final class TopicWeight implements CliCommand {
  @Parameter(description = "TOPIC PARTITION WEIGHT", required = true, arity = 3)
  List<String> args;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    int partition = Args.partition(args.get(1));
    double weight = Args.positiveDouble("weight", args.get(2));
    ctx.client(cluster).blocking().setWeight(args.get(0), partition, weight);
    ctx.out.println("weight of " + args.get(0) + "/" + partition + " set to " + weight);
    return 0;
  }
}
