package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Set a partition's load weight (R4; default 1.0); prints the weight as stored")
public final class TopicWeight implements CliCommand {
  @Parameter(description = "TOPIC PARTITION WEIGHT", required = true, arity = 3)
  List<String> args;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    SetWeight weight = SetWeight.newBuilder().setTopic(args.get(0)).setPartition(Args.partition(args.get(1)))
        .setWeight(Args.positiveDouble("weight", args.get(2))).build();
    Writes.report(ctx, json, Writes.send(ctx.client(cluster), Command.newBuilder().setSetWeight(weight).build()));
    return 0;
  }
}
