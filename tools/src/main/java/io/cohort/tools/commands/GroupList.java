package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.List;

@Parameters(commandDescription = "List groups")
public final class GroupList implements CliCommand {
  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  ReadOptions read = new ReadOptions();

  @Override
  public int run(CliContext ctx) {
    List<GroupSummary> groups = BlockingCohortClient.await(ctx.client(cluster).listGroups(read.mode()));
    if (json) {
      ObjectNode doc = Json.doc();
      ArrayNode out = doc.putArray("groups");
      groups.forEach(g -> out.add(JsonViews.summary(g)));
      ctx.out.println(Json.write(doc));
      return 0;
    }
    Table table = new Table("GROUP", "TOPICS", "ORDER", "MEMBERS", "SESSION-TIMEOUT", "HEARTBEAT");
    for (GroupSummary g : groups) {
      table.row(g.getGroup(), String.join(",", g.getTopicsList()), g.getOrder(), g.getMembers(),
          g.getSessionTimeoutMs() + "ms", g.getHeartbeatIntervalMs() + "ms");
    }
    table.print(ctx.out);
    return 0;
  }
}
