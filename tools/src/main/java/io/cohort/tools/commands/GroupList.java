package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.Json;
import io.cohort.tools.JsonViews;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

@Parameters(commandDescription = "List groups")
public final class GroupList implements CliCommand {
  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    List<GroupSummary> groups = BlockingCohortClient.await(ctx.client(cluster).listGroups(cluster.readMode()));
    if (json) {
      List<Object> out = new ArrayList<>();
      groups.forEach(g -> out.add(JsonViews.summary(g)));
      ctx.out.println(Json.write(Map.of("groups", out)));
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
