package io.cohort.tools.commands;

import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.server.ServerMain;
import io.cohort.server.ServerOptions;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;

@Parameters(commandDescription = "Run one Cohort node in the foreground (SIGTERM stops it gracefully)")
public final class Server implements CliCommand {
  @ParametersDelegate
  ServerOptions options = new ServerOptions();

  @Override
  public int run(CliContext ctx) {
    return ServerMain.runServer(options, ctx.env(), ctx.out, ctx.err);
  }
}
