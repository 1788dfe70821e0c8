package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.server.CohortServer;
import io.cohort.server.ServerConfig;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.nio.file.Path;

@Parameters(commandDescription = "Run one Cohort node in the foreground (SIGTERM stops it gracefully)")
public final class Server implements CliCommand {
  @Parameter(names = "--id", description = "this node's id, one of the peers (e.g. n1)", required = true)
  String id;

  @Parameter(names = "--storage", description = "directory for the Raft log and snapshots", required = true)
  Path storage;

  @Parameter(names = "--peers", description = "n1=host:port,n2=host:port,n3=host:port (default: $COHORT_PEERS, else the local cluster)")
  String peers;

  @Override
  public int run(CliContext ctx) throws Exception {
    ServerConfig config = ServerConfig.of(id, storage, ctx.peers(peers));
    CohortServer server = CohortServer.start(config);
    Thread hook = new Thread(server::close, "cohort-server-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    ctx.out.println("cohort server " + id + " serving at " + config.self().getAddress() + ", storage " + storage);
    server.awaitTermination();
    return 0;
  }
}
