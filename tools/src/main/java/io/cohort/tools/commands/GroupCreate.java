package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.List;

@Parameters(commandDescription = "Create a consumer group on one or more topics")
public final class GroupCreate implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @Parameter(names = "--topic", description = "a topic to read (repeat for more; each once)", required = true)
  List<String> topics;

  @Parameter(names = "--order", description = "read a split or merged partition's children only after their parents are finished (R5)")
  boolean order;

  @Parameter(names = "--session-timeout-ms", description = "a consumer silent this long is expired (1000..600000; default 10000)")
  long sessionTimeoutMs;

  @Parameter(names = "--heartbeat-interval-ms", description = "regular heartbeat interval (at most a third of the session timeout; default 1000)")
  long heartbeatIntervalMs;

  @Parameter(names = "--start-from", description = "where a partition without a checkpoint starts: begin or end")
  String startFrom = "begin";

  @Parameter(names = "--retention", description = "delete the group with its checkpoints once it has had no members this long "
      + "(7d, 12h, 30m, ...; 0 = keep it forever; default 7d)")
  String retention;

  @Parameter(names = "--initial-rebalance-delay-ms", description = "when consumers join the empty group, assign nothing "
      + "until this long after the latest join (at most a minute after the first), so a cold start of many "
      + "consumers is one assignment, not a handoff per join (0..30000; default 0: at once)")
  long initialRebalanceDelayMs;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    StartFrom start = switch (startFrom) {
      case "begin" -> StartFrom.BEGIN;
      case "end" -> StartFrom.END;
      default -> throw new ParameterException("--start-from must be begin or end, got '" + startFrom + "'");
    };
    CreateGroup spec = CreateGroup.newBuilder().setGroup(Args.newName("group", group.get(0)))
        .addAllTopics(Args.distinctTopics(topics)).setOrder(order).setSessionTimeoutMs(sessionTimeoutMs)
        .setHeartbeatIntervalMs(heartbeatIntervalMs).setStartFrom(start)
        .setInitialRebalanceDelayMs(initialRebalanceDelayMs).build();
    if (retention != null) {
      spec = spec.toBuilder().setRetentionMs(Args.durationMs("--retention", retention)).build();
    }
    Writes.report(ctx, json, Writes.send(ctx.client(cluster), Command.newBuilder().setCreateGroup(spec).build()));
    return 0;
  }
}
