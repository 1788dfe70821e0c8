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
 *     0 = a fifth of the session timeout
 * @param errorBackoffMs wait after a failed poll or processing before retrying that batch
 * @param retryMs wait before retrying a heartbeat that failed or a join that was refused
 * @param leaveTimeoutMs how long {@link GroupConsumer#close()} waits for readers and for the leave
 */
public record ConsumerConfig(String group, String consumerId, long commitIntervalMs,
    int maxBatchRecords, long pollWaitMs, long sessionMarginMs, long errorBackoffMs, long retryMs,
    long leaveTimeoutMs) {

  public ConsumerConfig {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(consumerId, "consumerId");
    if (commitIntervalMs <= 0 || maxBatchRecords <= 0 || pollWaitMs <= 0 || sessionMarginMs < 0
        || errorBackoffMs <= 0 || retryMs <= 0 || leaveTimeoutMs <= 0) {
      throw new IllegalArgumentException("consumer settings must be positive: " + this);
    }
  }

  public static Builder builder(String group, String consumerId) {
    return new Builder(group, consumerId);
  }

  /** The margin for a session timeout: the configured one, or a fifth of the timeout. */
  long marginFor(long sessionTimeoutMs) {
    long margin = sessionMarginMs > 0 ? sessionMarginMs : sessionTimeoutMs / 5;
    return Math.min(margin, sessionTimeoutMs / 2);
  }

  /** Defaults: commit every 1 s, 500 records per poll, 200 ms poll wait, retries after 500 ms. */
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

    public ConsumerConfig build() {
      return new ConsumerConfig(group, consumerId, commitIntervalMs, maxBatchRecords, pollWaitMs,
          sessionMarginMs, errorBackoffMs, retryMs, leaveTimeoutMs);
    }
  }
}
