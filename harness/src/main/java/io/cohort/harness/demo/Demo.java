package io.cohort.harness.demo;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.client.CohortClient;
import io.cohort.harness.bench.Ports;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.cli.CommandFailedException;
import io.cohort.tools.log.FileLog;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The demo: a real three-node cluster (scripts/cluster.sh), real consumer processes over the demo
 * log, and the seed's scenarios, each checked; then the leader is killed mid-consumption. Prints
 * what happened and a verdict; stops everything it started.
 */
@Parameters(commandDescription = "Run the demo: a local 3-node cluster, real consumers, the seed's scenarios, a leader kill")
public final class Demo implements CliCommand {
  @Parameter(names = "--dir", description = "work directory (default: a new temporary one)")
  Path dir;

  @Parameter(names = "--root", description = "the Cohort checkout (for scripts/cluster.sh; default: found from the jar)")
  Path root;

  @Parameter(names = "--base-port", description = "first of three ports for the cluster (default: free ones)")
  int basePort;

  @Override
  public int run(CliContext ctx) throws Exception {
    if (root == null) { // <root>/harness/target/{cohort-harness.jar,classes}
      root = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .getParent().getParent().getParent();
    }
    if (!Files.isRegularFile(root.resolve("scripts/cluster.sh"))) {
      throw new CommandFailedException("no scripts/cluster.sh under " + root + " (give --root: the Cohort checkout)");
    }
    dir = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("cohort-demo-");
    int base = basePort > 0 ? basePort : Ports.freeBase();
    Narrator narrator = new Narrator(ctx.out);
    long started = System.nanoTime();
    narrator.say("Cohort demo: work dir " + dir);
    narrator.say("Starting a 3-node cluster on 127.0.0.1:" + base + ".." + (base + 2) + " (scripts/cluster.sh)");
    LocalCluster cluster = ctx.closeLater(new LocalCluster(root, dir, base));
    Scenarios scenarios = null;
    try {
      cluster.start();
      CohortClient client = ctx.closeLater(CohortClient.connect(cluster.adminConfig()));
      scenarios = new Scenarios(cluster, client, narrator, new FileLog(dir.resolve("log")), dir);
      scenarios.runAll();
    } catch (Exception e) {
      narrator.fail("the demo stopped early: " + e);
    } finally {
      if (scenarios != null) {
        scenarios.stopConsumers();
      }
      narrator.say("Stopping the cluster");
      try {
        cluster.stop();
      } catch (Exception e) {
        narrator.fail("stopping the cluster: " + e);
      }
    }
    narrator.printVerdict((System.nanoTime() - started) / 1_000_000_000);
    return narrator.allOk() ? 0 : 1;
  }
}
