package io.cohort.server;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterException;
import io.cohort.server.snapshot.CorruptSnapshotException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

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
    logToStdout();
    int code = run(args, System.getenv(), System.out, System.err);
    exit(code);
  }

  /**
   * A server process's stderr carries only what the operator must act on (one line); Ratis' own
   * logging, stack traces included, goes to stdout, the node's log. Must run before the first
   * logger is made.
   */
  public static void logToStdout() {
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.out");
    java.util.logging.LogManager.getLogManager().reset(); // gRPC logs through java.util.logging
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    root.setLevel(java.util.logging.Level.WARNING);
    // Writes to System.out without owning it: the JVM's logging cleaner closes handlers at exit,
    // and a StreamHandler would close System.out with it (losing the node's last log lines).
    java.util.logging.Formatter format = new java.util.logging.SimpleFormatter();
    java.util.logging.Handler handler = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord record) {
        if (isLoggable(record)) {
          System.out.print(format.format(record));
          System.out.flush();
        }
      }

      @Override
      public void flush() {
        System.out.flush();
      }

      @Override
      public void close() {
        flush();
      }
    };
    root.addHandler(handler);
    GRPC_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  /**
   * Exits the JVM: the shutdown hook closes the node; if closing hangs (a broken disk), the JVM is
   * halted after {@link #EXIT_GRACE_MS} so that a supervisor can restart it.
   */
  public static void exit(int code) {
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(EXIT_GRACE_MS);
      } catch (InterruptedException e) {
        return;
      }
      Runtime.getRuntime().halt(code);
    }, "cohort-exit-watchdog");
    halt.setDaemon(true);
    halt.start();
    System.exit(code);
  }

  static final long EXIT_GRACE_MS = 15_000;

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

  /** {@link StartupWarmup}: a failure only costs the warm-up (logged), never the start. */
  private static void warmUp(ServerConfig config, long budgetMs) {
    if (budgetMs <= 0) {
      return;
    }
    try {
      StartupWarmup.Report r = StartupWarmup.run(Path.of(System.getProperty("java.io.tmpdir")), budgetMs);
      LoggerFactory.getLogger(ServerMain.class).info("[{}] warmed up in {} ms: {} commands applied, a snapshot of {}"
          + " records written and loaded (--warmup-ms 0: off)", config.id(), r.elapsedMs(), r.commands(),
          r.snapshotRecords());
    } catch (IOException | RuntimeException e) {
      LoggerFactory.getLogger(ServerMain.class).warn("[{}] warm-up skipped: {}", config.id(), e.toString());
    }
  }

  /** {@link #runServer(ServerOptions, Map, PrintStream, PrintStream)} with help printed on {@code err}. */
  public static int runServer(ServerOptions o, Map<String, String> env, PrintStream err) {
    return runServer(o, env, err, err);
  }

  /**
   * Runs a node until SIGTERM (or another JVM shutdown), then stops it gracefully. With {@code
   * --help} prints the usage on {@code out} and starts nothing. Returns 2 for a bad configuration,
   * 1 when the node cannot start or had to stop (log or snapshot write failed, {@link FailStop}),
   * 0 when it stopped or was removed from the configuration; every error is one line on {@code
   * err}.
   */
  public static int runServer(ServerOptions o, Map<String, String> env, PrintStream out, PrintStream err) {
    if (o.help) {
      out.print(serverUsage());
      return 0;
    }
    ServerConfig config;
    StartMode mode;
    try {
      config = o.toConfig(env);
      mode = o.startMode();
    } catch (ConfigException e) {
      err.println("cohort server: " + e.getMessage());
      return 2;
    }
    AtomicInteger stopCode = new AtomicInteger(0);
    CountDownLatch stopped = new CountDownLatch(1);
    FailStop failStop = (code, line) -> {
      stopCode.set(code);
      err.println("cohort server: " + line);
      err.flush();
      stopped.countDown();
    };
    warmUp(config, o.warmupMs);
    CohortServer server;
    try {
      server = CohortServer.start(config, mode, ServerClock.SYSTEM, failStop);
    } catch (ConfigException e) {
      err.println("cohort server: " + e.getMessage());
      return 1;
    } catch (IOException | RuntimeException e) {
      LoggerFactory.getLogger(ServerMain.class).error("[{}] cannot start", config.id(), e);
      err.println("cohort server: " + StartupDiagnosis.explain(config, e));
      return 1;
    }
    if (config.isInsecure()) {
      err.println("cohort server: WARNING: --insecure: plaintext and no authentication; anyone who reaches "
          + config.selfAddress().address() + " is the admin 'anonymous'");
    }
    Thread hook = new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "cohort-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    reloadOnSighup(server, err);
    Thread closer = new Thread(() -> {
      try {
        stopped.await();
      } catch (InterruptedException e) {
        return;
      }
      server.close();
    }, "cohort-fail-stop-close");
    closer.setDaemon(true);
    closer.start();
    try {
      // A fail-stop closes the node; one whose close hangs on a broken disk is left behind after
      // the grace period (the caller exits the JVM anyway).
      stopped.await();
      if (!server.awaitTermination(EXIT_GRACE_MS / 2)) {
        LoggerFactory.getLogger(ServerMain.class).warn("[{}] still closing after {} ms: exiting anyway",
            config.id(), EXIT_GRACE_MS / 2);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
    }
    return stopCode.get();
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
