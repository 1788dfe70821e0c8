package io.cohort.server.metrics;

import io.cohort.server.NodeEvents;
import io.cohort.statemachine.CoordinatorEvents;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.TickResult;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Counters and histograms fed as the node works: commands applied and refused, commit entries,
 * expirations, leader changes, snapshots, and the coordinator's grants and release timeouts.
 *
 * <p>Every replica counts what it applies (replay at start included), so the followers' series
 * equal the leader's and survive a leader change; admission refusals are counted by the leader
 * that refused. The apply path allocates nothing: each (command, code) data point is resolved once
 * and kept in an array.
 */
public final class EventMetrics implements NodeEvents, CoordinatorEvents {
  private static final Command.BodyCase[] COMMANDS = Command.BodyCase.values();
  private static final Code[] CODES = Code.values();
  private static final String[] COMMAND_LABELS = new String[COMMANDS.length];

  static {
    for (Command.BodyCase c : COMMANDS) {
      COMMAND_LABELS[c.ordinal()] = c == Command.BodyCase.BODY_NOT_SET ? "unknown" : c.name().toLowerCase(Locale.ROOT);
    }
  }

  private final Counter applied;
  private final Counter rejected;
  private final Counter commitEntries;
  private final Counter expirations;
  private final Counter groupsDeleted;
  private final Counter leaderChanges;
  private final Counter quietHeartbeats;
  private final Counter renewals;
  private final CounterDataPoint[] quietPoints = new CounterDataPoint[CODES.length];
  private final Counter quietSlow;
  private final CounterDataPoint[] quietSlowPoints = new CounterDataPoint[COMMANDS.length];
  private final Counter grants;
  private final Histogram handoff;
  private final Counter releaseTimeouts;
  private final Histogram snapshotPause;
  private final Histogram snapshotWrite;
  private final Histogram snapshotLoad;
  private final Gauge snapshotBytes;
  private final Gauge snapshotIndex;

  // Resolved on first use; a racy second resolve stores the same data point.
  private final CounterDataPoint[][] appliedPoints = new CounterDataPoint[COMMANDS.length][CODES.length];
  private final CounterDataPoint[][] admissionPoints = new CounterDataPoint[COMMANDS.length][CODES.length];
  private final CounterDataPoint[][] applyRejectPoints = new CounterDataPoint[COMMANDS.length][CODES.length];
  private final CounterDataPoint[] entryPoints = new CounterDataPoint[CODES.length];

  public EventMetrics(PrometheusRegistry registry) {
    applied = Counter.builder().name("cohort_commands_applied_total")
        .help("Commands applied by this replica, by command and result code (all replicas count the same)")
        .labelNames("command", "code").withoutExemplars().register(registry);
    rejected = Counter.builder().name("cohort_commands_rejected_total")
        .help("Commands rejected: stage=admission by the leader before the log (R9), stage=apply by the state machine (R8)")
        .labelNames("stage", "command", "code").withoutExemplars().register(registry);
    commitEntries = Counter.builder().name("cohort_commit_entries_total")
        .help("Checkpoint entries applied, in commits and heartbeats, by per-entry code (R3)")
        .labelNames("code").withoutExemplars().register(registry);
    expirations = Counter.builder().name("cohort_member_expirations_total")
        .help("Members expired by the leader's tick (R7), by group")
        .labelNames("group").withoutExemplars().register(registry);
    groupsDeleted = Counter.builder().name("cohort_groups_deleted_by_retention_total")
        .help("Empty groups deleted by the tick once their retention ran out (R7)")
        .withoutExemplars().register(registry);
    quietHeartbeats = Counter.builder().name("cohort_quiet_heartbeats_total")
        .help("Heartbeats this leader answered off the log (step 11), by code: OK renewed the member in"
            + " memory for the next tick, NEEDS_WRITE sent the client to the log")
        .labelNames("code").withoutExemplars().register(registry);
    quietSlow = Counter.builder().name("cohort_quiet_heartbeats_slow_total")
        .help("Quiet heartbeats this leader answered 200 ms or more after they arrived, waiting for its earlier"
            + " writes to be applied (R2), by the kind of the oldest write pending when each began to wait")
        .labelNames("behind").withoutExemplars().register(registry);
    renewals = Counter.builder().name("cohort_renewals_applied_total")
        .help("Renewals applied from ticks (liveness answered off the log or shed), every replica")
        .withoutExemplars().register(registry);
    leaderChanges = Counter.builder().name("cohort_raft_leader_changes_total")
        .help("Times this node learned of a new leader").withoutExemplars().register(registry);
    grants = Counter.builder().name("cohort_grants_total")
        .help("Partitions granted, by group (R2)").labelNames("group").withoutExemplars().register(registry);
    handoff = Histogram.builder().name("cohort_handoff_duration_seconds")
        .help("Handoffs (R2): from asking the holder to release until the grant, state machine time")
        .classicOnly().classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
        .withoutExemplars().register(registry);
    releaseTimeouts = Counter.builder().name("cohort_release_timeouts_total")
        .help("Holders that did not release in time and lost the grant (R2), by group")
        .labelNames("group").withoutExemplars().register(registry);
    snapshotPause = Histogram.builder().name("cohort_snapshot_pause_seconds")
        .help("Applies stalled while a snapshot froze the state").classicOnly()
        .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
        .withoutExemplars().register(registry);
    snapshotWrite = Histogram.builder().name("cohort_snapshot_write_seconds")
        .help("Writing a snapshot file in the background, until durable").classicOnly()
        .classicUpperBounds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
        .withoutExemplars().register(registry);
    snapshotLoad = Histogram.builder().name("cohort_snapshot_load_seconds")
        .help("Loading a snapshot (at start or after an install from the leader)").classicOnly()
        .classicUpperBounds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
        .withoutExemplars().register(registry);
    snapshotBytes = Gauge.builder().name("cohort_snapshot_size_bytes")
        .help("Size of the newest snapshot file this node wrote").register(registry);
    snapshotIndex = Gauge.builder().name("cohort_snapshot_index")
        .help("Log index of the newest snapshot this node wrote or loaded").register(registry);
  }

  // ------------------------------------------------------------------ NodeEvents

  @Override
  public void applied(Command.BodyCase command, Result result) {
    Code code = result.getCode();
    point(appliedPoints, applied, null, command, code).inc();
    if (code != Code.OK) {
      point(applyRejectPoints, rejected, "apply", command, code).inc();
      return;
    }
    switch (result.getBodyCase()) {
      case HEARTBEAT -> {
        HeartbeatResult hb = result.getHeartbeat();
        for (int i = 0, n = hb.getCommitCodesCount(); i < n; i++) {
          entry(hb.getCommitCodes(i)).inc();
        }
      }
      case COMMIT -> {
        CommitResult c = result.getCommit();
        for (int i = 0, n = c.getCodesCount(); i < n; i++) {
          entry(c.getCodes(i)).inc();
        }
      }
      case TICK -> {
        TickResult t = result.getTick();
        for (int i = 0, n = t.getExpiredCount(); i < n; i++) {
          String member = t.getExpired(i); // "group/consumer"; names never hold a '/'
          int slash = member.indexOf('/');
          expirations.labelValues(slash < 0 ? member : member.substring(0, slash)).inc();
        }
        if (t.getDeletedGroupsCount() > 0) {
          groupsDeleted.inc(t.getDeletedGroupsCount());
        }
        if (t.getRenewed() > 0) {
          renewals.inc(t.getRenewed());
        }
      }
      default -> {
        // nothing more to count
      }
    }
  }

  @Override
  public void refused(Command.BodyCase command, Code code) {
    point(admissionPoints, rejected, "admission", command, code).inc();
  }

  @Override
  public void quietHeartbeat(Code code) {
    CounterDataPoint p = quietPoints[code.ordinal()];
    if (p == null) {
      p = quietHeartbeats.labelValues(code.name());
      quietPoints[code.ordinal()] = p;
    }
    p.inc();
  }

  @Override
  public void quietHeartbeatWaitedLong(Command.BodyCase behind) {
    Command.BodyCase kind = behind == null ? Command.BodyCase.BODY_NOT_SET : behind;
    CounterDataPoint p = quietSlowPoints[kind.ordinal()];
    if (p == null) {
      p = quietSlow.labelValues(COMMAND_LABELS[kind.ordinal()]);
      quietSlowPoints[kind.ordinal()] = p;
    }
    p.inc();
  }

  @Override
  public void leaderChanged(RaftPeerId leader) {
    leaderChanges.inc();
  }

  @Override
  public void snapshotPaused(long micros) {
    snapshotPause.observe(micros / 1e6);
  }

  @Override
  public void snapshotWritten(long millis, long bytes, long index) {
    snapshotWrite.observe(millis / 1e3);
    snapshotBytes.set(bytes);
    snapshotIndex.set(index);
  }

  @Override
  public void snapshotLoaded(long millis, long index) {
    snapshotLoad.observe(millis / 1e3);
    snapshotIndex.set(index);
  }

  // ------------------------------------------------------------------ CoordinatorEvents

  @Override
  public void granted(String group, String topic, int partition, String consumer, long epoch, long handoffMs) {
    grants.labelValues(group).inc();
    if (handoffMs >= 0) {
      handoff.observe(handoffMs / 1e3);
    }
  }

  @Override
  public void releaseTimedOut(String group, String topic, int partition, String holder, long epoch) {
    releaseTimeouts.labelValues(group).inc();
  }

  // ------------------------------------------------------------------ data points

  private static CounterDataPoint point(CounterDataPoint[][] cache, Counter counter, String stage,
      Command.BodyCase command, Code code) {
    CounterDataPoint p = cache[command.ordinal()][code.ordinal()];
    if (p == null) {
      String c = COMMAND_LABELS[command.ordinal()];
      p = stage == null ? counter.labelValues(c, code.name()) : counter.labelValues(stage, c, code.name());
      cache[command.ordinal()][code.ordinal()] = p;
    }
    return p;
  }

  private CounterDataPoint entry(Code code) {
    CounterDataPoint p = entryPoints[code.ordinal()];
    if (p == null) {
      p = commitEntries.labelValues(code.name());
      entryPoints[code.ordinal()] = p;
    }
    return p;
  }
}
