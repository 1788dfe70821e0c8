package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.RatisAdmin;

@Parameters(commandDescription = "Ask the leader to take a snapshot now")
public final class SnapshotTake implements CliCommand {
  @Parameter(names = "--timeout-ms", description = "how long to wait for it")
  long timeoutMs = 60_000;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) throws Exception {
    RatisAdmin admin = ctx.closeLater(new RatisAdmin(ctx.peers(cluster.peers)));
    long index = admin.takeSnapshot(timeoutMs);
    ctx.out.println("snapshot taken at index " + index);
    return 0;
  }
}
