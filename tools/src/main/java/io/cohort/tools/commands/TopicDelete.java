package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Delete a topic (refused while a group reads it: delete those groups first)")
public final class TopicDelete implements CliCommand {
  @Parameter(description = "TOPIC", required = true, arity = 1)
  List<String> topic;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    Writes.report(ctx, json, Writes.send(ctx.client(cluster), Command.newBuilder()
        .setDeleteTopic(DeleteTopic.newBuilder().setTopic(topic.get(0))).build()));
    return 0;
  }
}
