package io.cohort.server.metrics;

import io.cohort.server.CohortStateMachine;
import io.cohort.server.ConfigException;
import io.cohort.server.health.Readiness;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's metrics: its own Prometheus registry (a test JVM runs several nodes), the event
 * counters fed from the start, and, once the Raft server runs, the scrape-time collectors (state,
 * Raft, Ratis' registries, JVM) and the HTTP endpoint.
 */
public final class NodeMetrics implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeMetrics.class);
  /**
   * The JVM's metrics belong to the process, not to a node: registered once (each registration adds
   * GC listeners that are never removed) and shared by every node in the JVM (tests run several).
   */
  private static final PrometheusRegistry JVM = new PrometheusRegistry();

  static {
    JvmMetrics.builder().register(JVM);
  }

  private final MetricsSettings settings;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final EventMetrics events;
  private volatile HttpEndpoint endpoint;

  public NodeMetrics(MetricsSettings settings) {
    this.settings = settings;
    this.events = new EventMetrics(registry);
  }

  /** Fed by the state machine from its construction on (replay at start included). */
  public EventMetrics events() {
    return events;
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Registers the collectors and serves them on {@code host:httpPort}.
   *
   * @param division the node's division, or null while it has none
   * @param tls null for plain HTTP (until step 8)
   * @throws ConfigException if the port cannot be bound
   */
  public void start(String node, String host, Supplier<RaftServer.Division> division, CohortStateMachine stateMachine,
      Readiness readiness, SSLContext tls) {
    registerCollectors(node, division, stateMachine, readiness);
    try {
      endpoint = HttpEndpoint.start(host, settings.httpPort(), registry, readiness::check, tls);
    } catch (IOException e) {
      throw new ConfigException("--http-port " + settings.httpPort() + " on " + host + " cannot be bound: "
          + e.getMessage());
    }
    LOG.info("[{}] metrics on http{}://{}:{}/metrics (also /livez, /readyz)", node, tls == null ? "" : "s", host,
        endpoint.port());
  }

  /** The scrape-time collectors: state summary, Raft view, Ratis' registries, JVM. */
  public void registerCollectors(String node, Supplier<RaftServer.Division> division, CohortStateMachine stateMachine,
      Readiness readiness) {
    registry.register(new CoordinatorCollector(max -> stateMachine.metricsView(max, settings.stallAfterMs()),
        settings, node));
    registry.register(new RaftCollector(division, stateMachine, readiness));
    registry.register(new RatisRegistryCollector(node, () -> peerIds(division.get())));
    registry.register((MultiCollector) JVM::scrape);
  }

  /** The bound port, or -1 before {@link #start}. */
  public int port() {
    HttpEndpoint e = endpoint;
    return e == null ? -1 : e.port();
  }

  private static Set<String> peerIds(RaftServer.Division d) {
    Set<String> ids = new TreeSet<>();
    if (d != null) {
      for (RaftPeer p : d.getRaftConf().getAllPeers()) {
        ids.add(p.getId().toString());
      }
      for (CommitInfoProto c : d.getCommitInfos()) {
        ids.add(c.getServer().getId().toStringUtf8());
      }
    }
    return ids;
  }

  @Override
  public void close() {
    HttpEndpoint e = endpoint;
    if (e != null) {
      e.close();
    }
    registry.clear(); // the collectors hold the state machine
  }
}
