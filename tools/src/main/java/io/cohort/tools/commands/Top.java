package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.StallOptions;
import io.cohort.tools.top.TopSampler;
import io.cohort.tools.top.TopView;

@Parameters(commandDescription = "A live view of the groups: members, partitions by status, stalled and failing partitions, "
    + "lag, commit rates (refreshes every second; Ctrl-C quits)")
public final class Top implements CliCommand {
  @Parameter(names = "--group", description = "only this group")
  String group;

  @Parameter(names = "--once", description = "print one frame (two looks --interval-ms apart, for the rates) and exit")
  boolean once;

  @Parameter(names = "--json", description = "with --once: print the frame as JSON")
  boolean json;

  @Parameter(names = "--interval-ms", description = "between frames (and between the two looks of --once)")
  long intervalMs = 1000;

  @Parameter(names = "--frames", description = "live: stop after this many frames (0 = until Ctrl-C)")
  int frames;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  StallOptions stall = new StallOptions();

  @Override
  public int run(CliContext ctx) throws Exception {
    if (json && !once) {
      throw new ParameterException("--json needs --once (a live view is for people)");
    }
    if (intervalMs < 100 || intervalMs > 3_600_000) {
      throw new ParameterException("--interval-ms must be in 100..3600000, got " + intervalMs);
    }
    if (frames < 0) {
      throw new ParameterException("--frames must be 0 or more, got " + frames);
    }
    Long threshold = stall.threshold();
    TopView view = new TopView(new TopSampler(ctx.client(cluster), group, threshold), ctx.out, ctx.cluster(),
        intervalMs);
    if (once) {
      view.once(json);
    } else {
      view.live(frames);
    }
    return 0;
  }
}
