package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;
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

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    SplitPartition.Builder split = SplitPartition.newBuilder().setTopic(args.get(0))
        .setPartition(Args.partition(args.get(1)));
    if (key != null) {
      split.setSplitKey(Args.hashKey(key));
    }
    if (endCursor != null) {
      split.setEndCursor(endCursor);
    }
    Result r = Writes.send(ctx.client(cluster), Command.newBuilder().setSplitPartition(split).build());
    Writes.report(ctx, json, r, doc -> {
      ArrayNode children = doc.putArray("children");
      r.getSplit().getChildrenList().forEach(children::add);
    });
    return 0;
  }
}
