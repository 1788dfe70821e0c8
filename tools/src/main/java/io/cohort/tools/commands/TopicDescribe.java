package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.TopicView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.List;

@Parameters(commandDescription = "Show a topic's partitions: state, hash range, lineage, weight")
public final class TopicDescribe implements CliCommand {
  @Parameter(description = "TOPIC", required = true, arity = 1)
  List<String> topic;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  ReadOptions read = new ReadOptions();

  @Override
  public int run(CliContext ctx) {
    TopicView t = BlockingCohortClient.await(ctx.client(cluster).describeTopic(topic.get(0), read.mode()));
    if (json) {
      ObjectNode doc = Json.doc();
      doc.setAll(JsonViews.topic(t));
      ctx.out.println(Json.write(doc));
    } else {
      Tables.topic(t).print(ctx.out);
    }
    return 0;
  }
}
