package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.TopicView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.List;

@Parameters(commandDescription = "List topics")
public final class TopicList implements CliCommand {
  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  ReadOptions read = new ReadOptions();

  @Override
  public int run(CliContext ctx) {
    List<TopicView> topics = BlockingCohortClient.await(ctx.client(cluster).listTopics(read.mode()));
    if (json) {
      ObjectNode doc = Json.doc();
      ArrayNode out = doc.putArray("topics");
      topics.forEach(t -> out.add(JsonViews.topic(t)));
      ctx.out.println(Json.write(doc));
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
