package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.Result;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Merge two adjacent active partitions into one child (R5)")
public final class TopicMerge implements CliCommand {
  @Parameter(description = "TOPIC PARTITION1 PARTITION2", required = true, arity = 3)
  List<String> args;

  @Parameter(names = "--end-cursor1", description = "cursor just past PARTITION1's last record, if known")
  String endCursor1;

  @Parameter(names = "--end-cursor2", description = "cursor just past PARTITION2's last record, if known")
  String endCursor2;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    MergePartitions.Builder merge = MergePartitions.newBuilder().setTopic(args.get(0))
        .setPartition1(Args.partition(args.get(1))).setPartition2(Args.partition(args.get(2)));
    if (endCursor1 != null) {
      merge.setEndCursor1(endCursor1);
    }
    if (endCursor2 != null) {
      merge.setEndCursor2(endCursor2);
    }
    Result r = Writes.send(ctx.client(cluster), Command.newBuilder().setMergePartitions(merge).build());
    Writes.report(ctx, json, r, doc -> {
      ArrayNode children = doc.putArray("children");
      r.getSplit().getChildrenList().forEach(children::add);
    });
    return 0;
  }
}
