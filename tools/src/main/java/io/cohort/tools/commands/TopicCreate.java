package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Result;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.json.JsonViews;
import java.util.List;

@Parameters(commandDescription = "Create a topic of N partitions over the 64-bit hash-key space")
public final class TopicCreate implements CliCommand {
  @Parameter(description = "TOPIC", required = true, arity = 1)
  List<String> topic;

  @Parameter(names = "--partitions", description = "number of partitions", required = true)
  int partitions;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    String name = Args.newName("topic", topic.get(0));
    Result r = Writes.send(ctx.client(cluster), Command.newBuilder()
        .setCreateTopic(CreateTopic.newBuilder().setTopic(name).setPartitions(partitions)).build());
    Writes.report(ctx, json, r, doc -> doc.set("topic", JsonViews.topic(r.getTopic())));
    return 0;
  }
}
