package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.TopicView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.Json;
import io.cohort.tools.JsonViews;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

@Parameters(commandDescription = "List topics")
public final class TopicList implements CliCommand {
  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    List<TopicView> topics = BlockingCohortClient.await(ctx.client(cluster).listTopics(cluster.readMode()));
    if (json) {
      List<Object> out = new ArrayList<>();
      topics.forEach(t -> out.add(JsonViews.topic(t)));
      ctx.out.println(Json.write(Map.of("topics", out)));
      return 0;
    }
    Table table = new Table("TOPIC", "PARTITIONS", "ACTIVE", "SEALED");
    for (TopicView t : topics) {
      long active = t.getPartitionsList().stream().filter(p -> p.getState() == PartitionState.ACTIVE).count();
      table.row(t.getTopic(), t.getPartitionsCount(), active, t.getPartitionsCount() - active);
    }
    table.print(ctx.out);
    return 0;
  }
}
