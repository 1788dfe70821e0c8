package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.ListCheckpoints;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.StallOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.List;

@Parameters(commandDescription = "List a group's checkpoints (--json output is what checkpoint reset --from-file reads)")
public final class CheckpointList implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  ReadOptions read = new ReadOptions();

  @ParametersDelegate
  StallOptions stall = new StallOptions();

  @Override
  public int run(CliContext ctx) {
    ListCheckpoints.Builder q = ListCheckpoints.newBuilder().setGroup(group.get(0));
    Long threshold = stall.threshold();
    if (threshold != null) {
      q.setStallAfterMs(threshold);
    }
    io.cohort.statemachine.proto.CheckpointList list =
        BlockingCohortClient.await(ctx.client(cluster).listCheckpoints(q.build(), read.mode()));
    if (json) {
      ObjectNode doc = Json.doc();
      doc.put("group", group.get(0));
      ArrayNode out = doc.putArray("checkpoints");
      list.getCheckpointsList().forEach(c -> out.add(JsonViews.checkpoint(c, true)
          .set("health", JsonViews.health(c.getHealth()))));
      ctx.out.println(Json.write(doc));
      return 0;
    }
    Table table = new Table("PARTITION", "CURSOR", "FINISHED", "EPOCH", "LAG", "LAG-MS", "COMMITTED-BY", "AGE",
        "HEALTH");
    long stallAfterMs = 0;
    for (CheckpointView c : list.getCheckpointsList()) {
      stallAfterMs = c.getHealth().getStallAfterMs();
      table.row(c.getTopic() + "/" + c.getPartition(), Tables.cursor(c), c.getFinished(), c.getEpoch(),
          c.hasLag() ? c.getLag() + (c.getHealth().getLagStale() ? " (stale)" : "") : null,
          c.hasLagMs() ? c.getLagMs() : null, c.getCommittedBy().isEmpty() ? "(reset)" : c.getCommittedBy(),
          c.getHealth().hasCheckpointAgeMs() ? Tables.duration(c.getHealth().getCheckpointAgeMs()) : null,
          Tables.health(c.getHealth()));
    }
    table.print(ctx.out);
    if (stallAfterMs > 0) {
      ctx.out.println("(STALLED after " + Tables.duration(stallAfterMs) + " without progress; group describe shows the errors)");
    }
    return 0;
  }
}
