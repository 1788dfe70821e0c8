package io.cohort.tools;

import io.cohort.client.CohortClient;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What a command may use: its output streams, the environment, and clients it opens (closed after it). */
public final class CliContext implements AutoCloseable {
  /** The local cluster that {@code scripts/cluster.sh} starts. */
  public static final String DEFAULT_PEERS = "n1=127.0.0.1:9861,n2=127.0.0.1:9862,n3=127.0.0.1:9863";

  public final PrintStream out;
  public final PrintStream err;
  private final Map<String, String> env;
  private final List<AutoCloseable> opened = new ArrayList<>();

  public CliContext(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  public Map<String, String> env() {
    return env;
  }

  /** --peers, else COHORT_PEERS, else the local cluster. */
  public String peers(String flag) {
    if (flag != null && !flag.isBlank()) {
      return flag;
    }
    String fromEnv = env.get("COHORT_PEERS");
    return fromEnv != null && !fromEnv.isBlank() ? fromEnv : DEFAULT_PEERS;
  }

  public CohortClient client(ClusterOptions options) {
    return closeLater(CohortClient.connect(peers(options.peers)));
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
