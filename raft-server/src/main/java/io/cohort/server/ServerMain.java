package io.cohort.server;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterException;
import io.cohort.server.snapshot.CorruptSnapshotException;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;

/**
 * The server jar's entry point: {@code server --id n1 --storage DIR [--peers ...]} (DESIGN section
 * 5). The CLI ({@code cohort server}) delegates to {@link #runServer(ServerOptions, Map, PrintStream)};
 * {@code cluster status} and the other admin commands live in the CLI.
 */
public final class ServerMain {
  /** gRPC logs through java.util.logging (one INFO line per start): keep stderr for our errors. */
  private static final java.util.logging.Logger GRPC_LOG =
      java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc");

  private ServerMain() {}

  public static void main(String[] args) {
    GRPC_LOG.setLevel(java.util.logging.Level.WARNING);
    int code = run(args, System.getenv(), System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    if (args.length >= 1 && args[0].equals("server")) {
      ServerOptions o = new ServerOptions();
      Integer bad = parse(o, "cohort server", drop(args, 1), out, err);
      return bad != null ? bad : runServer(o, env, out, err);
    }
    err.println("usage: cohort server (--id ID --storage DIR | --config FILE) [--peers id=host:port,...] [options]");
    return 2;
  }

  private static Integer parse(ServerOptions options, String name, String[] args, PrintStream out, PrintStream err) {
    JCommander jc = JCommander.newBuilder().addObject(options).programName(name).build();
    try {
      jc.parse(args);
    } catch (ParameterException e) {
      err.println(name + ": " + e.getMessage());
      return 2;
    }
    if (options.help) {
      StringBuilder sb = new StringBuilder();
      jc.getUsageFormatter().usage(sb);
      out.print(sb);
      return 0;
    }
    return null;
  }

  /** The usage of {@code cohort server}, as {@code --help} prints it. */
  public static String serverUsage() {
    StringBuilder sb = new StringBuilder();
    JCommander.newBuilder().addObject(new ServerOptions()).programName("cohort server").build()
        .getUsageFormatter().usage(sb);
    return sb.toString();
  }

  /** {@link #runServer(ServerOptions, Map, PrintStream, PrintStream)} with help printed on {@code err}. */
  public static int runServer(ServerOptions o, Map<String, String> env, PrintStream err) {
    return runServer(o, env, err, err);
  }

  /**
   * Runs a node until SIGTERM (or another JVM shutdown), then stops it gracefully. With {@code
   * --help} prints the usage on {@code out} and starts nothing. Returns 2 for a bad configuration,
   * 1 when the node cannot start; every error is one line on {@code err}.
   */
  public static int runServer(ServerOptions o, Map<String, String> env, PrintStream out, PrintStream err) {
    if (o.help) {
      out.print(serverUsage());
      return 0;
    }
    ServerConfig config;
    try {
      config = o.toConfig(env);
    } catch (ConfigException e) {
      err.println("cohort server: " + e.getMessage());
      return 2;
    }
    CohortServer server;
    try {
      server = CohortServer.start(config);
    } catch (ConfigException e) {
      err.println("cohort server: " + e.getMessage());
      return 1;
    } catch (IOException | RuntimeException e) {
      err.println("cohort server: node " + config.id() + " cannot start: " + rootMessage(e));
      return 1;
    }
    if (config.isInsecure()) {
      err.println("cohort server: WARNING: --insecure: plaintext and no authentication; anyone who reaches "
          + config.selfAddress().address() + " is the admin 'anonymous'");
    }
    Thread hook = new Thread(server::close, "cohort-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    reloadOnSighup(server, err);
    try {
      server.awaitTermination();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
    }
    return 0;
  }

  /**
   * SIGHUP re-reads the node's certificate and key now (they are also polled every 10 s). A JVM
   * that does not offer the signal (not Linux/macOS, or -Xrs) keeps the poll only.
   */
  private static void reloadOnSighup(CohortServer server, PrintStream err) {
    if (server.tls() == null) {
      return;
    }
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> {
        if (!server.reloadTls()) {
          org.slf4j.LoggerFactory.getLogger(ServerMain.class).info("SIGHUP: TLS files unchanged");
        }
      });
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      err.println("cohort server: SIGHUP is not available here (" + e.getMessage() + "): certificates reload by poll only");
    }
  }

  /** The most telling message in a cause chain: a corrupt snapshot if there is one, else the root. */
  static String rootMessage(Throwable e) {
    Throwable root = e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CorruptSnapshotException) {
        return t.getMessage();
      }
      if (t instanceof java.net.BindException) {
        return "address in use: " + t.getMessage();
      }
      root = t;
    }
    String m = root.getMessage();
    return m == null ? root.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }

  private static String[] drop(String[] args, int n) {
    String[] rest = new String[args.length - n];
    System.arraycopy(args, n, rest, 0, rest.length);
    return rest;
  }
}
