package io.cohort.client;

import io.cohort.client.tls.TlsFiles;
import java.time.Duration;
import java.util.Objects;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * How a {@link CohortClient} reaches the cluster and how long it keeps trying.
 *
 * @param peers the cluster's peers
 * @param groupId the Ratis group id; {@link CohortGroup#ID} unless a test runs another group
 * @param attemptTimeout deadline of one attempt (Ratis' {@code raft.client.rpc.request.timeout})
 * @param callTimeout total time one call may spend retrying before it fails with
 *     {@link CohortUnavailableException}; never infinite
 * @param backoffBase first retry delay; it doubles per attempt (with jitter) up to backoffMax
 * @param backoffMax the largest retry delay
 * @param maxOutstanding calls in flight per client; further ones wait in order in the client (never
 *     blocking the caller), at most 16 times as many, each no longer than callTimeout; beyond that a
 *     call fails at once with a {@link CohortUnavailableException}
 * @param tls this client's certificate, key and CA for mutual TLS (R11); null only for a cluster
 *     started {@code --insecure}, chosen explicitly with {@link Builder#insecure()}
 */
public record CohortClientConfig(
    Peers peers,
    RaftGroupId groupId,
    Duration attemptTimeout,
    Duration callTimeout,
    Duration backoffBase,
    Duration backoffMax,
    int maxOutstanding,
    TlsFiles tls) {

  public CohortClientConfig {
    Objects.requireNonNull(peers, "peers");
    Objects.requireNonNull(groupId, "groupId");
    requirePositive(attemptTimeout, "attemptTimeout");
    requirePositive(callTimeout, "callTimeout");
    requirePositive(backoffBase, "backoffBase");
    requirePositive(backoffMax, "backoffMax");
    if (backoffMax.compareTo(backoffBase) < 0) {
      throw new IllegalArgumentException("backoffMax " + backoffMax + " < backoffBase " + backoffBase);
    }
    if (maxOutstanding < 2) {
      throw new IllegalArgumentException("maxOutstanding must be at least 2, got " + maxOutstanding);
    }
  }

  private static void requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }

  public static Builder builder(String peers) {
    return new Builder(Peers.parse(peers));
  }

  public static Builder builder(Peers peers) {
    return new Builder(peers);
  }

  /** True when the client talks plaintext ({@link Builder#insecure()}). */
  public boolean insecure() {
    return tls == null;
  }

  /**
   * Defaults: 10 s per attempt and per call, backoff 25 ms doubling to 100 ms (Kafka's
   * retry.backoff.ms), 1024 in flight. A leader kill costs one to two election timeouts plus one
   * backoff step whatever the attempt timeout (the dead leader's connection fails at once:
   * docs/BENCHMARKS.md, failover, the same with 1 s and 10 s attempts); retries are safe, Ratis'
   * retry cache answers a repeated call id once. The attempt is long because a short one turns
   * overload into collapse: a call whose answer is late is sent again while the first still
   * queues on the leader (docs/BENCHMARKS.md, heartbeat). Its cost: a client whose leader goes
   * silent without failing the connection waits up to 10 s. No default transport: {@link #tls}
   * or {@link #insecure} must be chosen.
   */
  public static final class Builder {
    private final Peers peers;
    private RaftGroupId groupId = CohortGroup.ID;
    private Duration attemptTimeout = Duration.ofSeconds(10);
    private Duration callTimeout = Duration.ofSeconds(10);
    private Duration backoffBase = Duration.ofMillis(25);
    private Duration backoffMax = Duration.ofMillis(100);
    private int maxOutstanding = 1024;
    private TlsFiles tls;
    private boolean insecure;

    private Builder(Peers peers) {
      this.peers = Objects.requireNonNull(peers, "peers");
    }

    public Builder groupId(RaftGroupId groupId) {
      this.groupId = groupId;
      return this;
    }

    public Builder attemptTimeout(Duration d) {
      this.attemptTimeout = d;
      return this;
    }

    public Builder callTimeout(Duration d) {
      this.callTimeout = d;
      return this;
    }

    public Builder backoff(Duration base, Duration max) {
      this.backoffBase = base;
      this.backoffMax = max;
      return this;
    }

    public Builder maxOutstanding(int n) {
      this.maxOutstanding = n;
      return this;
    }

    /** Mutual TLS with this certificate (its CN is the principal), key and cluster CA (R11). */
    public Builder tls(TlsFiles files) {
      this.tls = files;
      return this;
    }

    /** Plaintext, for a cluster started {@code --insecure}: every caller is the principal "anonymous". */
    public Builder insecure() {
      this.insecure = true;
      return this;
    }

    /** @throws IllegalStateException when neither {@link #tls} nor {@link #insecure} was chosen, or both */
    public CohortClientConfig build() {
      if ((tls == null) == !insecure) {
        throw new IllegalStateException(tls == null
            ? "choose the transport: tls(TlsFiles) for mutual TLS, or insecure() for a cluster started --insecure"
            : "tls(...) and insecure() exclude each other");
      }
      return new CohortClientConfig(peers, groupId, attemptTimeout, callTimeout, backoffBase,
          backoffMax, maxOutstanding, tls);
    }
  }
}
