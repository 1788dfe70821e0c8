package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Create a topic of N partitions over the 64-bit hash-key space")
public final class TopicCreate implements CliCommand {
  @Parameter(description = "TOPIC", required = true, arity = 1)
  List<String> topic;

  @Parameter(names = "--partitions", description = "number of partitions", required = true)
  int partitions;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    var view = ctx.client(cluster).blocking().createTopic(topic.get(0), partitions);
    ctx.out.println("created topic " + view.getTopic() + " with " + view.getPartitionsCount() + " partitions");
    return 0;
  }
}
