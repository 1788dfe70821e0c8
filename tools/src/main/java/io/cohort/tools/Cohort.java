package io.cohort.tools;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterException;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.CohortUnavailableException;
import io.cohort.server.ConfigException;
import io.cohort.server.snapshot.CorruptSnapshotException;
import io.cohort.tools.commands.CheckpointList;
import io.cohort.tools.commands.CheckpointReset;
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
import io.cohort.tools.commands.SnapshotTake;
import io.cohort.tools.commands.TopicCreate;
import io.cohort.tools.commands.TopicDescribe;
import io.cohort.tools.commands.TopicList;
import io.cohort.tools.commands.TopicMerge;
import io.cohort.tools.commands.TopicSplit;
import io.cohort.tools.commands.TopicWeight;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * The {@code cohort} command line (DESIGN.md section 5). Exit codes: 0 done, 1 failed, 2 bad usage.
 * Every error is one line on stderr.
 */
public final class Cohort {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;

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
  private static void quietLogging(boolean server) {
    if (!server) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis.client.impl.OrderedAsync", "off");
    java.util.logging.LogManager.getLogManager().reset(); // gRPC's java.util.logging chatter
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    root.setLevel(java.util.logging.Level.SEVERE);
    root.addHandler(new java.util.logging.ConsoleHandler());
  }

  /** name -> (subcommand name -> command); a leaf command has the single subcommand "". */
  private static Map<String, Map<String, Supplier<CliCommand>>> commands() {
    Map<String, Map<String, Supplier<CliCommand>>> c = new LinkedHashMap<>();
    add(c, "server", "", Server::new);
    add(c, "cluster", "status", ClusterStatus::new);
    add(c, "topic", "create", TopicCreate::new);
    add(c, "topic", "describe", TopicDescribe::new);
    add(c, "topic", "list", TopicList::new);
    add(c, "topic", "split", TopicSplit::new);
    add(c, "topic", "merge", TopicMerge::new);
    add(c, "topic", "weight", TopicWeight::new);
    add(c, "group", "create", GroupCreate::new);
    add(c, "group", "describe", GroupDescribe::new);
    add(c, "group", "list", GroupList::new);
    add(c, "group", "delete", GroupDelete::new);
    add(c, "checkpoint", "list", CheckpointList::new);
    add(c, "checkpoint", "reset", CheckpointReset::new);
    add(c, "snapshot", "take", SnapshotTake::new);
    add(c, "snapshot", "list", SnapshotList::new);
    add(c, "snapshot", "inspect", SnapshotInspect::new);
    add(c, "log", "produce", LogProduce::new);
    add(c, "consume", "", Consume::new);
    add(c, "bench", "commit", io.cohort.tools.bench.CommitBench::new);
    add(c, "bench", "failover", io.cohort.tools.bench.FailoverBench::new);
    add(c, "bench", "heartbeat", io.cohort.tools.bench.HeartbeatBench::new);
    add(c, "bench", "rebalance", io.cohort.tools.bench.RebalanceBench::new);
    add(c, "bench", "expiry", io.cohort.tools.bench.ExpiryBench::new);
    add(c, "bench", "snapshot", io.cohort.tools.bench.SnapshotBench::new);
    add(c, "demo", "", io.cohort.tools.demo.Demo::new);
    return c;
  }

  private static void add(Map<String, Map<String, Supplier<CliCommand>>> c, String name, String sub,
      Supplier<CliCommand> make) {
    c.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(sub, make);
  }

  public int run(String... args) {
    Map<String, Map<String, CliCommand>> instances = new LinkedHashMap<>();
    JCommander jc = JCommander.newBuilder().programName("cohort").build();
    commands().forEach((name, subs) -> {
      Map<String, CliCommand> made = new LinkedHashMap<>();
      if (subs.containsKey("")) {
        CliCommand leaf = subs.get("").get();
        made.put("", leaf);
        jc.addCommand(name, leaf);
      } else {
        jc.addCommand(name, new Object());
        JCommander parent = jc.getCommands().get(name);
        subs.forEach((sub, make) -> {
          CliCommand cmd = make.get();
          made.put(sub, cmd);
          parent.addCommand(sub, cmd);
        });
      }
      instances.put(name, made);
    });

    CliCommand command;
    String name = null;
    try {
      if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
        out.print(usage(jc));
        return args.length == 0 ? USAGE : OK;
      }
      jc.parse(args);
      name = jc.getParsedCommand();
      if (name == null) {
        throw new ParameterException("no command given");
      }
      Map<String, CliCommand> made = instances.get(name);
      if (made.containsKey("")) {
        command = made.get("");
      } else {
        String sub = jc.getCommands().get(name).getParsedCommand();
        if (sub == null) {
          throw new ParameterException("'cohort " + name + "' needs one of: " + String.join(", ", made.keySet()));
        }
        name = name + " " + sub;
        command = made.get(sub);
      }
    } catch (ParameterException e) {
      err.println("cohort: " + e.getMessage() + " (try 'cohort --help')");
      return USAGE;
    }

    try (CliContext ctx = new CliContext(out, err, env)) {
      return command.run(ctx);
    } catch (Throwable t) {
      return fail(name, t);
    }
  }

  private int fail(String name, Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof ParameterException || e instanceof ConfigException || e instanceof IllegalArgumentException) {
      err.println("cohort " + name + ": " + e.getMessage());
      return USAGE;
    }
    if (e instanceof CohortRejectedException r) {
      err.println("cohort " + name + ": " + r.code() + ": " + r.getMessage());
    } else if (e instanceof CohortUnavailableException) {
      err.println("cohort " + name + ": cluster unavailable: " + e.getMessage());
    } else if (e instanceof CorruptSnapshotException) {
      err.println("cohort " + name + ": " + e.getMessage());
    } else {
      err.println("cohort " + name + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    return FAILED;
  }

  private static String usage(JCommander jc) {
    StringBuilder s = new StringBuilder("usage: cohort <command> [options]\n\ncommands:\n");
    jc.getCommands().forEach((name, sub) -> {
      if (sub.getCommands().isEmpty()) {
        s.append(String.format("  %-20s %s%n", name, jc.getUsageFormatter().getCommandDescription(name)));
      } else {
        sub.getCommands().forEach((n, c) -> s.append(String.format("  %-20s %s%n", name + " " + n,
            sub.getUsageFormatter().getCommandDescription(n))));
      }
    });
    s.append("\nPeers come from --peers, else $COHORT_PEERS, else ").append(CliContext.DEFAULT_PEERS)
        .append(".\nRead commands take --json. Exit codes: 0 done, 1 failed, 2 bad usage.\n");
    return s.toString();
  }
}
