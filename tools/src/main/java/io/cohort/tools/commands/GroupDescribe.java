package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.List;

@Parameters(commandDescription = "Show a group's members, grants, handoffs and checkpoints, and why each partition is where it is")
public final class GroupDescribe implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  ReadOptions read = new ReadOptions();

  @Override
  public int run(CliContext ctx) {
    GroupView g = BlockingCohortClient.await(ctx.client(cluster).describeGroup(group.get(0), read.mode()));
    if (json) {
      ctx.out.println(Json.write(JsonViews.group(g)));
      return 0;
    }
    var s = g.getSummary();
    ctx.out.printf("group %s on %s  order=%s  session-timeout=%dms  heartbeat=%dms  start-from=%s%n",
        s.getGroup(), String.join(",", s.getTopicsList()), s.getOrder(), s.getSessionTimeoutMs(),
        s.getHeartbeatIntervalMs(), s.getStartFrom().name().toLowerCase());
    ctx.out.println();
    Table members = new Table("MEMBER", "PARTITIONS", "LAST-HEARTBEAT");
    for (MemberView m : g.getMembersList()) {
      StringBuilder held = new StringBuilder();
      m.getGrantsList().forEach(gr -> held.append(held.length() == 0 ? "" : " ").append(gr.getTopic())
          .append('/').append(gr.getPartition()));
      members.row(m.getConsumerId(), held.length() == 0 ? "-" : held, (g.getNowMs() - m.getLastHeartbeatMs()) + "ms ago");
    }
    members.print(ctx.out);
    ctx.out.println();
    Table parts = new Table("PARTITION", "STATE", "STATUS", "HOLDER", "EPOCH", "TARGET", "WAITING-FOR", "CURSOR", "LAG");
    for (GroupPartitionView p : g.getPartitionsList()) {
      CheckpointView c = p.hasCheckpoint() ? p.getCheckpoint() : null;
      parts.row(p.getTopic() + "/" + p.getPartition(), p.getState(), p.getStatus(),
          p.hasHolder() ? p.getHolder() : null, p.getEpoch() == 0 ? null : p.getEpoch(),
          p.hasTarget() ? p.getTarget() : null, p.getWaitingForList().isEmpty() ? null : p.getWaitingForList(),
          c == null ? null : Tables.cursor(c),
          c == null || !c.hasLag() ? null : c.getLag());
    }
    parts.print(ctx.out);
    return 0;
  }
}
