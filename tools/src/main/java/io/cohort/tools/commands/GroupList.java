package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortRejectedException;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.ListGroups;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;

@Parameters(commandDescription = "List groups, with how long empty ones have had no members and their retention")
public final class GroupList implements CliCommand {
  /** The list, or the query's refusal as a one-line failure. */
  private static io.cohort.statemachine.proto.GroupList answer(QueryResult r) {
    if (r.getCode() != Code.OK) {
      throw new CohortRejectedException(r.getCode(), r.getMessage());
    }
    return r.getGroups();
  }

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  ReadOptions read = new ReadOptions();

  @Override
  public int run(CliContext ctx) {
    io.cohort.statemachine.proto.GroupList list = BlockingCohortClient.await(ctx.client(cluster).query(Query.newBuilder()
        .setListGroups(ListGroups.getDefaultInstance()).build(), read.mode()).thenApply(GroupList::answer));
    if (json) {
      ObjectNode doc = Json.doc();
      ArrayNode out = doc.putArray("groups");
      list.getGroupsList().forEach(g -> out.add(JsonViews.summary(g)));
      doc.put("nowMs", list.getNowMs());
      ctx.out.println(Json.write(doc));
      return 0;
    }
    Table table = new Table("GROUP", "TOPICS", "ORDER", "MEMBERS", "SESSION-TIMEOUT", "HEARTBEAT", "EMPTY-FOR",
        "RETENTION");
    for (GroupSummary g : list.getGroupsList()) {
      table.row(g.getGroup(), String.join(",", g.getTopicsList()), g.getOrder(), g.getMembers(),
          g.getSessionTimeoutMs() + "ms", g.getHeartbeatIntervalMs() + "ms",
          g.hasEmptySinceMs() ? Tables.duration(list.getNowMs() - g.getEmptySinceMs()) : null,
          Tables.retention(g.getRetentionMs()));
    }
    table.print(ctx.out);
    return 0;
  }
}
