package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.log.FileLog;
import java.nio.file.Path;
import java.util.List;

@Parameters(commandDescription = "Append records to the demo log (one file per partition)")
public final class LogProduce implements CliCommand {
  @Parameter(names = "--dir", description = "the demo log's directory", required = true)
  Path dir;

  @Parameter(description = "TOPIC PARTITION", required = true, arity = 2)
  List<String> args;

  @Parameter(names = "--count", description = "how many records", required = true)
  int count;

  @Override
  public int run(CliContext ctx) throws Exception {
    int partition = Args.partition(args.get(1));
    if (count < 0) {
      throw new com.beust.jcommander.ParameterException("--count must be >= 0, got " + count);
    }
    long end = new FileLog(dir).append(args.get(0), partition, count, System.currentTimeMillis());
    ctx.out.println(end);
    return 0;
  }
}
