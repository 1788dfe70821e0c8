package io.cohort.tools;

import io.cohort.client.Peers;
import io.cohort.tools.cli.CommandLine;
import io.cohort.tools.commands.CheckpointDelete;
import io.cohort.tools.commands.CheckpointList;
import io.cohort.tools.commands.CheckpointReset;
import io.cohort.tools.commands.ClusterLimits;
import io.cohort.tools.commands.ClusterStatus;
import io.cohort.tools.commands.Consume;
import io.cohort.tools.commands.GroupCreate;
import io.cohort.tools.commands.GroupDelete;
import io.cohort.tools.commands.GroupDescribe;
import io.cohort.tools.commands.GroupList;
import io.cohort.tools.commands.LogProduce;
import io.cohort.tools.commands.Server;
import io.cohort.tools.commands.SnapshotInspect;
import io.cohort.tools.commands.SnapshotList;
import io.cohort.tools.commands.SnapshotRestore;
import io.cohort.tools.commands.SnapshotSave;
import io.cohort.tools.commands.SnapshotTake;
import io.cohort.tools.commands.TopicCreate;
import io.cohort.tools.commands.TopicDelete;
import io.cohort.tools.commands.TopicDescribe;
import io.cohort.tools.commands.TopicList;
import io.cohort.tools.commands.TopicMerge;
import io.cohort.tools.commands.TopicSplit;
import io.cohort.tools.commands.TopicWeight;
import java.io.PrintStream;
import java.util.Map;

/**
 * The {@code cohort} command line (DESIGN.md section 5): operating a cluster. Exercising one
 * (bench, chaos, demo) is the harness's ({@code scripts/cohort} sends those commands there).
 * Exit codes: 0 done, 1 failed, 2 bad usage; every error is one line on stderr.
 */
public final class Cohort {
  public static final int OK = CommandLine.OK;
  public static final int FAILED = CommandLine.FAILED;
  public static final int USAGE = CommandLine.USAGE;

  public static final String FOOTER = "Peers come from --peers, else $" + Peers.ENV + ", else " + Peers.LOCAL + ".\n"
      + "Commands that talk to the cluster give up after --timeout seconds (default "
      + ClusterOptions.DEFAULT_TIMEOUT_S + ").\n"
      + "Read commands take --json; write commands print what the cluster stored (--json: {\"version\":1,\"ok\":true,...}).\n"
      + "Exit codes: 0 done, 1 failed, 2 bad usage. Benchmarks, chaos and the demo: scripts/cohort bench|chaos|demo.\n";

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  public Cohort(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  public static void main(String[] args) {
    quietLogging(args.length > 0 && args[0].equals("server"));
    int code = new Cohort(System.out, System.err, System.getenv()).run(args);
    System.out.flush();
    System.exit(code);
  }

  /**
   * A command's output is its result: libraries log warnings only (a server keeps its own INFO
   * lines). Must run before the first logger is made. Ratis' client logs every leader redirect as
   * an ERROR; it retries them itself, so those lines are dropped.
   */
  public static void quietLogging(boolean server) {
    if (!server) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
      // a channel to a node that is going away closes slowly: not the command's business
      System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis.grpc.GrpcUtil", "error");
    }
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis.client.impl.OrderedAsync", "off");
    java.util.logging.LogManager.getLogManager().reset(); // gRPC's java.util.logging chatter
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    root.setLevel(java.util.logging.Level.SEVERE);
    root.addHandler(new java.util.logging.ConsoleHandler());
  }

  /** Every command of {@code cohort}, one class each. */
  public static CommandLine.Table commands() {
    return new CommandLine.Table()
        .add("server", Server::new)
        .describe("cluster", "The Raft group: each peer's state, the replicated limits")
        .add("cluster", "status", ClusterStatus::new)
        .add("cluster", "limits", ClusterLimits::new)
        .describe("topic", "Topics and their partitions: create, reshard, weigh, delete")
        .add("topic", "create", TopicCreate::new)
        .add("topic", "describe", TopicDescribe::new)
        .add("topic", "list", TopicList::new)
        .add("topic", "split", TopicSplit::new)
        .add("topic", "merge", TopicMerge::new)
        .add("topic", "weight", TopicWeight::new)
        .add("topic", "delete", TopicDelete::new)
        .describe("group", "Consumer groups: members, grants, handoffs, checkpoints")
        .add("group", "create", GroupCreate::new)
        .add("group", "describe", GroupDescribe::new)
        .add("group", "list", GroupList::new)
        .add("group", "delete", GroupDelete::new)
        .describe("checkpoint", "A group's checkpoints: list, and offset management while the group runs (R3)")
        .add("checkpoint", "list", CheckpointList::new)
        .add("checkpoint", "reset", CheckpointReset::new)
        .add("checkpoint", "delete", CheckpointDelete::new)
        .describe("snapshot", "Snapshots: take one now, back up and restore, read files offline")
        .add("snapshot", "take", SnapshotTake::new)
        .add("snapshot", "save", SnapshotSave::new)
        .add("snapshot", "restore", SnapshotRestore::new)
        .add("snapshot", "list", SnapshotList::new)
        .add("snapshot", "inspect", SnapshotInspect::new)
        .describe("log", "The demo log (one file per partition)")
        .add("log", "produce", LogProduce::new)
        .add("consume", Consume::new);
  }

  public int run(String... args) {
    return new CommandLine("cohort", commands(), FOOTER).run(args, out, err, env);
  }
}
