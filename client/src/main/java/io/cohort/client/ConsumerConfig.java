package io.cohort.client;

import java.util.Objects;

/**
 * A {@link GroupConsumer}'s settings. The heartbeat interval and session timeout come from the
 * group (the server suggests each next heartbeat); these are the client-side knobs.
 *
 * @param group the group to join
 * @param consumerId this consumer's id, stable across restarts (static membership)
 * @param commitIntervalMs how long a processed position may wait before it is committed; riding on
 *     a heartbeat when one is due within half of it, else in its own command
 * @param maxBatchRecords records per poll
 * @param pollWaitMs how long one poll may wait for records
 * @param sessionMarginMs stop reading when no heartbeat succeeded for (session timeout − margin);
 *     0 = a fifth of the session timeout. Never less than one poll plus {@link #MARGIN_SLACK_MS}
 * @param errorBackoffMs wait after a failed poll or processing before retrying that batch; doubles
 *     while the same batch keeps failing, up to {@code maxErrorBackoffMs}
 * @param retryMs wait before retrying a heartbeat that failed or a join that was refused
 * @param leaveTimeoutMs how long {@link GroupConsumer#close()} waits for readers to stop while it
 *     keeps the session alive, and for the leave's answer
 * @param readerThreads threads that run every partition's reader, one poll-and-process step at a
 *     time; default {@link #defaultReaderThreads()}
 * @param autoCommit true: a batch's end cursor is committed once {@code process} returns; false:
 *     only cursors passed to {@link GroupConsumer#acknowledge} (or {@link
 *     ProcessingContext#acknowledge}) are committed
 * @param poisonPolicy what a reader does when the same batch keeps failing (default: retry)
 * @param maxErrorBackoffMs the longest wait between retries of a failing batch
 * @param metrics where the consumer reports what it does (default: nowhere)
 * @param watchTimeoutMs R12: how long each watch on the leader waits for a change before it is
 *     placed again (at most {@link WatchProtocol#MAX_TIMEOUT_MS}); 0 = no watch, heartbeats keep
 *     their interval
 * @param quietHeartbeats step 11: a heartbeat that would change nothing (no commits, the same
 *     grants, no release asked; also a poll while waiting for a grant) is answered by the leader
 *     off the log; false = every heartbeat goes through the log
 */
public record ConsumerConfig(String group, String consumerId, long commitIntervalMs,
    int maxBatchRecords, long pollWaitMs, long sessionMarginMs, long errorBackoffMs, long retryMs,
    long leaveTimeoutMs, int readerThreads, boolean autoCommit, PoisonPolicy poisonPolicy,
    long maxErrorBackoffMs, ConsumerMetrics metrics, long watchTimeoutMs, boolean quietHeartbeats) {

  /** The settings before quiet heartbeats existed: they are on. */
  public ConsumerConfig(String group, String consumerId, long commitIntervalMs, int maxBatchRecords,
      long pollWaitMs, long sessionMarginMs, long errorBackoffMs, long retryMs, long leaveTimeoutMs,
      int readerThreads, boolean autoCommit, PoisonPolicy poisonPolicy, long maxErrorBackoffMs,
      ConsumerMetrics metrics, long watchTimeoutMs) {
    this(group, consumerId, commitIntervalMs, maxBatchRecords, pollWaitMs, sessionMarginMs, errorBackoffMs,
        retryMs, leaveTimeoutMs, readerThreads, autoCommit, poisonPolicy, maxErrorBackoffMs, metrics,
        watchTimeoutMs, true);
  }

  /** What the self-fencing margin keeps on top of one poll (R2: a poll, then the check). */
  public static final long MARGIN_SLACK_MS = 100;

  public ConsumerConfig {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(consumerId, "consumerId");
    Objects.requireNonNull(poisonPolicy, "poisonPolicy");
    Objects.requireNonNull(metrics, "metrics");
    if (maxErrorBackoffMs < errorBackoffMs) {
      throw new IllegalArgumentException("maxErrorBackoffMs " + maxErrorBackoffMs + " must be at least errorBackoffMs "
          + errorBackoffMs);
    }
    if (commitIntervalMs <= 0 || maxBatchRecords <= 0 || pollWaitMs <= 0 || sessionMarginMs < 0
        || errorBackoffMs <= 0 || retryMs <= 0 || leaveTimeoutMs <= 0 || readerThreads <= 0) {
      throw new IllegalArgumentException("consumer settings must be positive (sessionMarginMs may be 0): "
          + "commitIntervalMs=" + commitIntervalMs + ", maxBatchRecords=" + maxBatchRecords + ", pollWaitMs="
          + pollWaitMs + ", sessionMarginMs=" + sessionMarginMs + ", errorBackoffMs=" + errorBackoffMs
          + ", retryMs=" + retryMs + ", leaveTimeoutMs=" + leaveTimeoutMs + ", readerThreads=" + readerThreads);
    }
    if (watchTimeoutMs < 0 || watchTimeoutMs > WatchProtocol.MAX_TIMEOUT_MS) {
      throw new IllegalArgumentException("watchTimeoutMs must be 0 (no watch) to " + WatchProtocol.MAX_TIMEOUT_MS
          + ": " + watchTimeoutMs);
    }
    if (sessionMarginMs > 0 && sessionMarginMs < pollWaitMs + MARGIN_SLACK_MS) {
      throw new IllegalArgumentException("sessionMarginMs " + sessionMarginMs + " must cover one poll: at least "
          + "pollWaitMs " + pollWaitMs + " + " + MARGIN_SLACK_MS + " ms slack = " + (pollWaitMs + MARGIN_SLACK_MS));
    }
  }

  /** The settings before watches existed: a watch with the default timeout. */
  public ConsumerConfig(String group, String consumerId, long commitIntervalMs, int maxBatchRecords,
      long pollWaitMs, long sessionMarginMs, long errorBackoffMs, long retryMs, long leaveTimeoutMs,
      int readerThreads, boolean autoCommit, PoisonPolicy poisonPolicy, long maxErrorBackoffMs,
      ConsumerMetrics metrics) {
    this(group, consumerId, commitIntervalMs, maxBatchRecords, pollWaitMs, sessionMarginMs, errorBackoffMs,
        retryMs, leaveTimeoutMs, readerThreads, autoCommit, poisonPolicy, maxErrorBackoffMs, metrics,
        DEFAULT_WATCH_TIMEOUT_MS);
  }

  /** How long a watch waits for a change unless set (R12). */
  public static final long DEFAULT_WATCH_TIMEOUT_MS = 15_000;

  /** The settings before reader threads and acknowledge-later commits existed: defaults for those. */
  public ConsumerConfig(String group, String consumerId, long commitIntervalMs, int maxBatchRecords,
      long pollWaitMs, long sessionMarginMs, long errorBackoffMs, long retryMs, long leaveTimeoutMs) {
    this(group, consumerId, commitIntervalMs, maxBatchRecords, pollWaitMs, sessionMarginMs,
        errorBackoffMs, retryMs, leaveTimeoutMs, defaultReaderThreads(), true);
  }

  /** The settings before poison policies and metrics existed: defaults for those. */
  public ConsumerConfig(String group, String consumerId, long commitIntervalMs, int maxBatchRecords,
      long pollWaitMs, long sessionMarginMs, long errorBackoffMs, long retryMs, long leaveTimeoutMs,
      int readerThreads, boolean autoCommit) {
    this(group, consumerId, commitIntervalMs, maxBatchRecords, pollWaitMs, sessionMarginMs, errorBackoffMs,
        retryMs, leaveTimeoutMs, readerThreads, autoCommit, PoisonPolicy.retry(),
        Math.max(errorBackoffMs, DEFAULT_MAX_ERROR_BACKOFF_MS), ConsumerMetrics.NONE, DEFAULT_WATCH_TIMEOUT_MS);
  }

  /** The longest wait between retries of a failing batch unless set. */
  public static final long DEFAULT_MAX_ERROR_BACKOFF_MS = 30_000;

  /** How long a reader waits before the {@code attempts}-th retry of a failing batch (attempts from 1). */
  long errorBackoffMs(int attempts) {
    long shift = Math.min(Math.max(attempts - 1, 0), 20);
    return Math.min(maxErrorBackoffMs, errorBackoffMs << shift);
  }

  public static Builder builder(String group, String consumerId) {
    return new Builder(group, consumerId);
  }

  /** min(16, 2 × available processors). */
  public static int defaultReaderThreads() {
    return Math.min(16, 2 * Runtime.getRuntime().availableProcessors());
  }

  /**
   * The self-fencing margin for a session timeout: the configured one (or a fifth of the timeout),
   * but never less than one poll plus {@link #MARGIN_SLACK_MS}.
   */
  long marginFor(long sessionTimeoutMs) {
    long margin = sessionMarginMs > 0 ? sessionMarginMs : sessionTimeoutMs / 5;
    return Math.max(margin, pollWaitMs + MARGIN_SLACK_MS);
  }

  /**
   * Why this consumer cannot run under a group's session timeout, or null when it can: its margin
   * must leave at least half of the session for heartbeats to renew it.
   */
  String sessionTimeoutProblem(long sessionTimeoutMs) {
    long margin = marginFor(sessionTimeoutMs);
    if (sessionTimeoutMs > 0 && margin * 2 > sessionTimeoutMs) {
      return "the self-fencing margin of " + margin + " ms (one poll of pollWaitMs " + pollWaitMs + " ms + "
          + MARGIN_SLACK_MS + " ms slack, or sessionMarginMs) does not fit in group '" + group
          + "''s session timeout of " + sessionTimeoutMs + " ms: it may be at most half of it; "
          + "lower pollWaitMs/sessionMarginMs or raise the group's session timeout";
    }
    return null;
  }

  /**
   * Defaults: commit every 1 s, 500 records per poll, 200 ms poll wait, retries after 500 ms
   * (a failing batch: doubling up to 30 s, forever), {@link ConsumerConfig#defaultReaderThreads()}
   * reader threads, auto-commit, no metrics.
   */
  public static final class Builder {
    private final String group;
    private final String consumerId;
    private long commitIntervalMs = 1000;
    private int maxBatchRecords = 500;
    private long pollWaitMs = 200;
    private long sessionMarginMs = 0;
    private long errorBackoffMs = 500;
    private long retryMs = 500;
    private long leaveTimeoutMs = 10_000;
    private int readerThreads = defaultReaderThreads();
    private boolean autoCommit = true;
    private PoisonPolicy poisonPolicy = PoisonPolicy.retry();
    private long maxErrorBackoffMs = DEFAULT_MAX_ERROR_BACKOFF_MS;
    private long watchTimeoutMs = DEFAULT_WATCH_TIMEOUT_MS;
    private boolean quietHeartbeats = true;
    private ConsumerMetrics metrics = ConsumerMetrics.NONE;
    private io.prometheus.metrics.model.registry.PrometheusRegistry registry;

    private Builder(String group, String consumerId) {
      this.group = group;
      this.consumerId = consumerId;
    }

    public Builder commitIntervalMs(long v) {
      commitIntervalMs = v;
      return this;
    }

    public Builder maxBatchRecords(int v) {
      maxBatchRecords = v;
      return this;
    }

    public Builder pollWaitMs(long v) {
      pollWaitMs = v;
      return this;
    }

    public Builder sessionMarginMs(long v) {
      sessionMarginMs = v;
      return this;
    }

    public Builder errorBackoffMs(long v) {
      errorBackoffMs = v;
      return this;
    }

    public Builder retryMs(long v) {
      retryMs = v;
      return this;
    }

    public Builder leaveTimeoutMs(long v) {
      leaveTimeoutMs = v;
      return this;
    }

    public Builder readerThreads(int v) {
      readerThreads = v;
      return this;
    }

    public Builder autoCommit(boolean v) {
      autoCommit = v;
      return this;
    }

    public Builder poisonPolicy(PoisonPolicy v) {
      poisonPolicy = v;
      return this;
    }

    public Builder maxErrorBackoffMs(long v) {
      maxErrorBackoffMs = v;
      return this;
    }

    /**
     * Reports into this Prometheus registry (e.g. {@code PrometheusRegistry.defaultRegistry}), every
     * series labelled with group and consumer (see client/USAGE.md). Needs {@code
     * io.prometheus:prometheus-metrics-core} on the classpath; without this call the client never
     * touches it.
     */
    public Builder metrics(io.prometheus.metrics.model.registry.PrometheusRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Reports to another metrics backend (instead of {@link #metrics(io.prometheus.metrics.model.registry.PrometheusRegistry)}). */
    public Builder metricsRecorder(ConsumerMetrics v) {
      metrics = Objects.requireNonNull(v, "metrics");
      registry = null;
      return this;
    }

    /** R12: each watch's timeout; 0 turns watches off (heartbeats keep the group's interval). */
    public Builder watchTimeoutMs(long v) {
      watchTimeoutMs = v;
      return this;
    }

    /** Step 11: heartbeats that change nothing answered off the log (default on); false sends every one through the log. */
    public Builder quietHeartbeats(boolean v) {
      quietHeartbeats = v;
      return this;
    }

    public ConsumerConfig build() {
      ConsumerMetrics m = registry == null ? metrics : PrometheusConsumerMetrics.of(registry, group, consumerId);
      return new ConsumerConfig(group, consumerId, commitIntervalMs, maxBatchRecords, pollWaitMs,
          sessionMarginMs, errorBackoffMs, retryMs, leaveTimeoutMs, readerThreads, autoCommit, poisonPolicy,
          maxErrorBackoffMs, m, watchTimeoutMs, quietHeartbeats);
    }
  }
}
