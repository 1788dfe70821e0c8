package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.server.ClusterStatus.PeerStatus;
import io.cohort.server.Peers;
import io.cohort.server.ServerConfig;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.RatisAdmin;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.ratis.protocol.RaftPeer;

@Parameters(commandDescription = "Take a snapshot now and wait until its file is durable")
public final class SnapshotTake implements CliCommand {
  @Parameter(names = "--timeout-ms", description = "how long to wait for the file")
  long timeoutMs = 120_000;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) throws Exception {
    List<RaftPeer> peers = Peers.parse(ctx.peers(cluster.peers));
    // Every reachable node has applied at least this much: the new snapshot covers it.
    long floor = Long.MAX_VALUE;
    for (PeerStatus s : status(peers)) {
      if (s.reachable()) {
        floor = Math.min(floor, s.appliedIndex());
      }
    }
    if (floor == Long.MAX_VALUE) {
      ctx.err.println("cohort snapshot take: no peer of " + ctx.peers(cluster.peers) + " answered");
      return 1;
    }
    RatisAdmin admin = ctx.closeLater(new RatisAdmin(ctx.peers(cluster.peers)));
    admin.takeSnapshot(timeoutMs); // the node freezes its state and writes the file in the background
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < deadline) {
      for (PeerStatus s : status(peers)) {
        if (s.reachable() && s.snapshotIndex() >= floor && floor >= 0) {
          ctx.out.println("snapshot taken at index " + s.snapshotIndex() + " on " + s.id());
          return 0;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    ctx.err.println("cohort snapshot take: no snapshot at index >= " + floor + " within " + timeoutMs + " ms");
    return 1;
  }

  private static List<PeerStatus> status(List<RaftPeer> peers) {
    return io.cohort.server.ClusterStatus.query(peers, ServerConfig.DEFAULT_GROUP_ID, 3000);
  }
}
