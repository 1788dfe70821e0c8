package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.Json;
import io.cohort.tools.JsonViews;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Parameters(commandDescription = "List a group's checkpoints")
public final class CheckpointList implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    var list = ctx.client(cluster).blocking().listCheckpoints(group.get(0), cluster.readMode());
    if (json) {
      List<Object> out = new ArrayList<>();
      list.getCheckpointsList().forEach(c -> out.add(JsonViews.checkpoint(c, true)));
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("group", group.get(0));
      doc.put("checkpoints", out);
      ctx.out.println(Json.write(doc));
      return 0;
    }
    Table table = new Table("PARTITION", "CURSOR", "FINISHED", "EPOCH", "LAG", "LAG-MS", "COMMITTED-BY");
    for (CheckpointView c : list.getCheckpointsList()) {
      table.row(c.getTopic() + "/" + c.getPartition(), c.getCursor(), c.getFinished(), c.getEpoch(),
          c.hasLag() ? c.getLag() : null, c.hasLagMs() ? c.getLagMs() : null,
          c.getCommittedBy().isEmpty() ? "(reset)" : c.getCommittedBy());
    }
    table.print(ctx.out);
    return 0;
  }
}
