package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.TopicView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.Json;
import io.cohort.tools.JsonViews;
import java.util.List;

@Parameters(commandDescription = "Show a topic's partitions: state, hash range, lineage, weight")
public final class TopicDescribe implements CliCommand {
  @Parameter(description = "TOPIC", required = true, arity = 1)
  List<String> topic;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    TopicView t = ctx.client(cluster).blocking().describeTopic(topic.get(0), cluster.readMode());
    if (json) {
      ctx.out.println(Json.write(JsonViews.topic(t)));
    } else {
      Tables.topic(t).print(ctx.out);
    }
    return 0;
  }
}
