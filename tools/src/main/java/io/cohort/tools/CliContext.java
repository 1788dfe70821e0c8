package io.cohort.tools;

import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.client.CohortUnavailableException;
import io.cohort.client.Peers;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.tls.ClientTls;
import io.cohort.client.tls.TlsFiles;
import io.cohort.client.tls.TlsProbe;
import io.cohort.tools.cli.ErrorLines;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * What a command may use: its output streams, the environment, and the clients it opens (closed
 * after it). Remembers which cluster it talked to, so a failure can say where.
 */
public final class CliContext implements AutoCloseable {
  private static final Duration PROBE_BUDGET = Duration.ofSeconds(5);

  public final PrintStream out;
  public final PrintStream err;
  private final Map<String, String> env;
  private final List<AutoCloseable> opened = new ArrayList<>();
  private String cluster;
  private Peers peers;
  private TlsFiles tls;
  private long timeoutSeconds = ClusterOptions.DEFAULT_TIMEOUT_S;

  public CliContext(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  public Map<String, String> env() {
    return env;
  }

  /** The peers of --peers, else $COHORT_PEERS, else the local cluster; a bad list is bad usage. */
  public Peers peers(ClusterOptions options) {
    Duration timeout = options.timeout();
    Peers peers = Peers.parse(Peers.specOrDefault(options.peers, env));
    this.cluster = peers.toString();
    this.peers = peers;
    this.tls = options.tls(env);
    this.timeoutSeconds = timeout.toSeconds();
    return peers;
  }

  /**
   * A client whose every call gives up after --timeout (then the command fails with one line),
   * with the caller's certificate (--tls-* or COHORT_TLS_*) or plaintext (--insecure).
   */
  public CohortClient client(ClusterOptions options) {
    return closeLater(CohortClient.connect(clientConfig(options)));
  }

  /** The configuration {@link #client} connects with. */
  public CohortClientConfig clientConfig(ClusterOptions options) {
    Peers peers = peers(options);
    Duration timeout = options.timeout();
    Duration attempt = timeout.compareTo(Duration.ofSeconds(3)) < 0 ? timeout : Duration.ofSeconds(3);
    CohortClientConfig.Builder b = CohortClientConfig.builder(peers).callTimeout(timeout).attemptTimeout(attempt);
    TlsFiles tls = options.tls(env);
    return (tls == null ? b.insecure() : b.tls(tls)).build();
  }

  /** Whether the command talks plaintext (--insecure or COHORT_INSECURE=1). */
  public boolean insecure(ClusterOptions options) {
    return options.tls(env) == null;
  }

  /** Raft-level calls (status, snapshots), each bounded by --timeout. */
  public ClusterAdmin admin(ClusterOptions options) {
    Peers peers = peers(options);
    return closeLater(ClusterAdmin.connect(peers, options.timeout(), options.tls(env)));
  }

  /** The cluster the command talked to, as id=host:port,...; null before it did. */
  public String cluster() {
    return cluster;
  }

  /**
   * R11: an unreachable failure that shows no cause of its own gets what direct handshakes with
   * the peers find. With a certificate: the first refusal that names its problem (a peer whose
   * handshake ends otherwise is passed over). In plaintext: whether a peer answers in TLS (gRPC's
   * own failure says so only on some attempts; a reset reads "io exception", as CI once printed).
   * The handshakes get {@link #PROBE_BUDGET} in all, whatever --timeout; only a peer that accepts
   * the connection and then stays silent uses it up.
   */
  public Throwable diagnosed(Throwable t) {
    Throwable e = ErrorLines.unwrap(t);
    if (!(e instanceof CohortUnavailableException) || peers == null) {
      return t;
    }
    BiFunction<Peers.Peer, Duration, Throwable> finding; // what one peer's handshake shows, or null
    if (tls == null) {
      finding = (p, left) -> TlsProbe.answersInTls(p.host(), p.port(), left) ? new ErrorLines.AnsweredInTls(p.id()) : null;
    } else {
      if (ErrorLines.tlsProblem(e) != null) {
        return t;
      }
      SSLContext context;
      try {
        context = ClientTls.of(tls, peers).jdkContext();
      } catch (RuntimeException notLoadable) {
        return t;
      }
      finding = (p, left) -> {
        SSLException refused = TlsProbe.handshake(context, p.host(), p.port(), left);
        return refused != null && ErrorLines.tlsProblem(refused) != null ? refused : null;
      };
    }
    long deadline = System.nanoTime() + PROBE_BUDGET.toNanos();
    for (Peers.Peer p : peers.list()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      Throwable found = finding.apply(p, Duration.ofNanos(left));
      if (found != null) {
        e.addSuppressed(found);
        break;
      }
    }
    return t;
  }

  public long timeoutSeconds() {
    return timeoutSeconds;
  }

  public <T extends AutoCloseable> T closeLater(T resource) {
    opened.add(resource);
    return resource;
  }

  @Override
  public void close() {
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        err.println("cohort: warning: closing " + opened.get(i) + " failed: " + e.getMessage());
      }
    }
    opened.clear();
  }
}
