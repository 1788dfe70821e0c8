package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

@Parameters(commandDescription = "Reset a group's checkpoints while it runs: dry run unless --execute; the holders are "
    + "fenced and restart from the new positions (R3). Also: GROUP TOPIC PARTITION CURSOR (one partition, at once)")
public final class CheckpointReset implements CliCommand {
  @Parameter(description = "GROUP  (or GROUP TOPIC PARTITION CURSOR: reset one partition at once)", required = true)
  List<String> args;

  @ParametersDelegate
  CheckpointScope scope = new CheckpointScope();

  @Parameter(names = "--to-cursor", description = "target: resume at this cursor (exactly as given)")
  String toCursor;

  @Parameter(names = "--to-start", description = "target: no checkpoint; the next holder starts at the group's start position")
  boolean toStart;

  @Parameter(names = "--to-end", description = "target: the next holder starts at the partition's end")
  boolean toEnd;

  @Parameter(names = "--from-file", description = "targets: the output of 'cohort checkpoint list G --json' (the scope, if given, filters it)")
  Path fromFile;

  @Parameter(names = "--execute", description = "apply it (one replicated command, all or none); without it: a dry run")
  boolean execute;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) throws Exception {
    boolean positional = args.size() == 4;
    if (args.size() != 1 && !positional) {
      throw new ParameterException("expected GROUP, or GROUP TOPIC PARTITION CURSOR; got " + args.size() + " values");
    }
    int targets = (toCursor != null ? 1 : 0) + (toStart ? 1 : 0) + (toEnd ? 1 : 0) + (fromFile != null ? 1 : 0);
    List<CheckpointFile.Entry> file = null;
    if (positional) {
      if (targets > 0 || scope.given()) {
        throw new ParameterException("GROUP TOPIC PARTITION CURSOR takes no scope or target options");
      }
      scope.topics = List.of(args.get(1));
      scope.partitions = Integer.toString(Args.partition(args.get(2)));
      toCursor = args.get(3);
      execute = true; // the old form's contract (DESIGN section 5): one explicit partition, at once
    } else if (targets != 1) {
      throw new ParameterException("give one target: --to-cursor C, --to-start, --to-end or --from-file F");
    } else if (fromFile != null) {
      scope.check();
      file = CheckpointFile.read(fromFile);
    } else {
      scope.require();
    }

    String group = args.get(0);
    CohortClient client = ctx.client(cluster);
    GroupView view = BlockingCohortClient.await(client.describeGroup(group));
    List<ResetPlan.Row> rows = new ArrayList<>();
    if (file != null) {
      for (CheckpointFile.Entry e : file) {
        if (scope.contains(e.topic(), e.partition())) {
          rows.add(new ResetPlan.Row(ResetPlan.Slot.of(view, e.topic(), e.partition()), e.target()));
        }
      }
    } else {
      ResetPlan.Target target = toCursor != null ? ResetPlan.Target.cursor(toCursor)
          : toStart ? ResetPlan.Target.START : ResetPlan.Target.END;
      scope.select(view).forEach(s -> rows.add(new ResetPlan.Row(s, target)));
    }
    return new ResetPlan(group, rows).run(ctx, client, execute, json);
  }
}
