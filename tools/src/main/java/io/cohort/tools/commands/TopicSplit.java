package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Split a partition in two: seals it and creates two children (R5)")
public final class TopicSplit implements CliCommand {
  @Parameter(description = "TOPIC PARTITION", required = true, arity = 2)
  List<String> args;

  @Parameter(names = "--key", description = "first hash key of the upper child: hex (0x...) or decimal (default: the middle)")
  String key;

  @Parameter(names = "--end-cursor", description = "cursor just past the parent's last record, if known")
  String endCursor;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    String topic = args.get(0);
    int partition = Args.partition(args.get(1));
    SplitPartition.Builder split = SplitPartition.newBuilder().setTopic(topic).setPartition(partition);
    if (key != null) {
      split.setSplitKey(Args.hashKey(key));
    }
    if (endCursor != null) {
      split.setEndCursor(endCursor);
    }
    List<Integer> children = ctx.client(cluster).blocking().split(split.build());
    ctx.out.println("split " + topic + "/" + partition + " into " + children.get(0) + " and " + children.get(1));
    return 0;
  }
}
