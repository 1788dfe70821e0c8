package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.statemachine.proto.PartitionHealth;
import io.cohort.statemachine.proto.ReaderErrorView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.StallOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.List;

@Parameters(commandDescription = "Show a group's members, grants, handoffs and checkpoints, why each partition is where it is, "
    + "and which are STALLED, failing or have a stale lag")
public final class GroupDescribe implements CliCommand {
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
    DescribeGroupQuery.Builder q = DescribeGroupQuery.newBuilder().setGroup(group.get(0));
    Long threshold = stall.threshold();
    if (threshold != null) {
      q.setStallAfterMs(threshold);
    }
    GroupView g = BlockingCohortClient.await(ctx.client(cluster).describeGroup(q.build(), read.mode()));
    if (json) {
      ctx.out.println(Json.write(JsonViews.group(g)));
      return 0;
    }
    GroupSummary s = g.getSummary();
    ctx.out.printf("group %s on %s  order=%s  session-timeout=%dms  heartbeat=%dms  start-from=%s  retention=%s%n",
        s.getGroup(), String.join(",", s.getTopicsList()), s.getOrder(), s.getSessionTimeoutMs(),
        s.getHeartbeatIntervalMs(), s.getStartFrom().name().toLowerCase(), Tables.retention(s.getRetentionMs()));
    if (s.hasEmptySinceMs()) {
      ctx.out.printf("no members for %s; %s%n", Tables.duration(g.getNowMs() - s.getEmptySinceMs()),
          s.hasDeleteAtMs() ? "deleted with its checkpoints in " + Tables.duration(Math.max(0, s.getDeleteAtMs() - g.getNowMs()))
              + " unless a consumer joins (R7)" : "kept forever (retention 0)");
    }
    if (s.hasFormingUntilMs()) {
      ctx.out.printf("forming: nothing is assigned for another %s (initial rebalance delay %dms after each join)%n",
          Tables.duration(Math.max(0, s.getFormingUntilMs() - g.getNowMs())), s.getInitialRebalanceDelayMs());
    }
    ctx.out.println();
    Table members = new Table("MEMBER", "PARTITIONS", "LAST-HEARTBEAT");
    for (MemberView m : g.getMembersList()) {
      StringBuilder held = new StringBuilder();
      m.getGrantsList().forEach(gr -> held.append(held.length() == 0 ? "" : " ").append(gr.getTopic())
          .append('/').append(gr.getPartition()));
      members.row(m.getConsumerId(), held.length() == 0 ? "-" : held,
          Tables.duration(g.getNowMs() - m.getLastHeartbeatMs()) + " ago");
    }
    members.print(ctx.out);
    ctx.out.println();
    Table parts = new Table("PARTITION", "STATE", "STATUS", "HEALTH", "HOLDER", "EPOCH", "TARGET", "WAITING-FOR",
        "CURSOR", "LAG", "CHECKPOINT-AGE");
    Table errors = new Table("PARTITION", "ATTEMPTS", "SINCE", "LAST", "BY", "AT-CURSOR", "SKIPPED", "ERROR");
    long stallAfterMs = 0;
    for (GroupPartitionView p : g.getPartitionsList()) {
      CheckpointView c = p.hasCheckpoint() ? p.getCheckpoint() : null;
      PartitionHealth h = p.getHealth();
      stallAfterMs = h.getStallAfterMs();
      String name = p.getTopic() + "/" + p.getPartition();
      parts.row(name, p.getState(), p.getStatus(), Tables.health(h),
          p.hasHolder() ? p.getHolder() : null, p.getEpoch() == 0 ? null : p.getEpoch(),
          p.hasTarget() ? p.getTarget() : null, p.getWaitingForList().isEmpty() ? null : p.getWaitingForList(),
          c == null ? null : Tables.cursor(c),
          c == null || !c.hasLag() ? null : c.getLag() + (h.getLagStale() ? " (stale)" : ""),
          h.hasCheckpointAgeMs() ? Tables.duration(h.getCheckpointAgeMs()) : null);
      if (h.hasLastError()) {
        ReaderErrorView e = h.getLastError();
        errors.row(name, e.getAttempts(), Tables.duration(g.getNowMs() - e.getFirstAtMs()) + " ago",
            Tables.duration(g.getNowMs() - e.getLastAtMs()) + " ago", e.getReportedBy(),
            e.hasCursor() ? e.getCursor() : null, e.getSkipped(), e.getMessage());
      }
    }
    parts.print(ctx.out);
    if (errors.size() > 0) {
      ctx.out.println();
      ctx.out.println("last reader errors:");
      errors.print(ctx.out);
    }
    if (stallAfterMs > 0) {
      ctx.out.println();
      ctx.out.println("STALLED: a live holder behind or failing, no progress for " + Tables.duration(stallAfterMs)
          + " (--stall-after-ms); stale: the lag is frozen, nobody live reads it");
    }
    return 0;
  }
}
