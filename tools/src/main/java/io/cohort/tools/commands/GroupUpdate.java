package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.UpdateGroup;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.ArrayList;
import java.util.List;

@Parameters(commandDescription = "Change a group's settings while it runs; what is not given stays")
public final class GroupUpdate implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @Parameter(names = "--session-timeout-ms", description = "a consumer silent this long is expired (1000..600000)")
  Long sessionTimeoutMs;

  @Parameter(names = "--heartbeat-interval-ms", description = "regular heartbeat interval (at most a third of the session timeout)")
  Long heartbeatIntervalMs;

  @Parameter(names = "--release-timeout-ms", description = "a holder that has not released this long after being asked loses "
      + "the grant (0 = the session timeout)")
  Long releaseTimeoutMs;

  @Parameter(names = "--retention", description = "delete the group with its checkpoints once it has had no members this long "
      + "(7d, 12h, 30m, ...; 0 = keep it forever)")
  String retention;

  @Parameter(names = "--initial-rebalance-delay-ms", description = "when consumers join the empty group, assign nothing "
      + "until this long after the latest join (0..30000; 0 = at once, and a forming group assigns now)")
  Long initialRebalanceDelayMs;

  @Parameter(names = "--add-topic", description = "a topic to read too (repeat for more)")
  List<String> addTopics = new ArrayList<>();

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    UpdateGroup.Builder u = UpdateGroup.newBuilder().setGroup(group.get(0));
    if (sessionTimeoutMs != null) {
      u.setSessionTimeoutMs(sessionTimeoutMs);
    }
    if (heartbeatIntervalMs != null) {
      u.setHeartbeatIntervalMs(heartbeatIntervalMs);
    }
    if (releaseTimeoutMs != null) {
      u.setReleaseTimeoutMs(releaseTimeoutMs);
    }
    if (retention != null) {
      u.setRetentionMs(Args.durationMs("--retention", retention));
    }
    if (initialRebalanceDelayMs != null) {
      u.setInitialRebalanceDelayMs(initialRebalanceDelayMs);
    }
    if (!addTopics.isEmpty()) {
      u.addAllAddTopics(Args.distinctTopics(addTopics));
    }
    if (u.build().equals(UpdateGroup.newBuilder().setGroup(group.get(0)).build())) {
      throw new ParameterException("nothing to change: give --session-timeout-ms, --heartbeat-interval-ms, "
          + "--release-timeout-ms, --retention, --initial-rebalance-delay-ms or --add-topic");
    }
    Writes.report(ctx, json, Writes.send(ctx.client(cluster), Command.newBuilder().setUpdateGroup(u).build()));
    return 0;
  }
}
