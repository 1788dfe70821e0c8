package io.cohort.client;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The consumer's protocol logic (R1–R3, DESIGN §7) with no threads, no clock and no I/O: it builds
 * heartbeats and commits, digests their results and says which readers to start and stop. The
 * {@link GroupConsumer} drives it from one thread; tests drive it directly.
 *
 * <p>Safety rule: a partition is left out of {@code held} only once no reader of it is running
 * and its final checkpoint rides in the same command (applied before {@code held}, R1), so it is
 * never read by two consumers at once.
 */
final class ConsumerState {
  /** What the driver must do after an event. */
  sealed interface Action {
    /** Start a reader on the grant at {@code cursor} (null: the grant's start position). */
    record Start(PartitionGrant grant, String cursor) implements Action {}

    /** Stop the reader of this grant (if it still runs), telling the listener why. */
    record Stop(PartitionGrant grant, RevokeReason reason) implements Action {}

    /** The grant changed in place (sealed, end cursor): the running reader should see it. */
    record Refresh(PartitionGrant grant) implements Action {}

    /** A checkpoint was acknowledged. */
    record Acked(PartitionId id, CheckpointEntry entry) implements Action {}

    /** A checkpoint was refused with a code other than OK or FENCED. */
    record Refused(PartitionId id, CheckpointEntry entry, Code code) implements Action {}

    /** The session was taken over by another process: everything stopped for good. */
    record ConsumerFenced() implements Action {}
  }

  enum Phase {
    /** Being read (or paused while the session is at risk). */
    RUNNING,
    /** Told to release: its reader is stopping. */
    STOPPING,
    /** Its reader stopped: the next heartbeat carries its final checkpoint and omits it. */
    RELEASED
  }

  static final class Part {
    PartitionGrant grant;
    Phase phase = Phase.RUNNING;
    boolean paused;
    /** The latest processed position (what a resumed reader starts from). */
    String position;
    /** Latest checkpoint not yet acknowledged; null when all is committed. */
    CheckpointEntry pending;
    /** The pending entry as last sent (awaiting its answer); newer progress is unsent again. */
    CheckpointEntry sent;
    /** When the oldest progress not yet sent was recorded. */
    long pendingSinceMs;
    String ackedCursor;

    Part(PartitionGrant grant) {
      this.grant = grant;
      this.position = grant.cursor();
      this.ackedCursor = grant.cursor();
    }
  }

  /** What one heartbeat, commit or leave carried, to match its result against. */
  record Flush(long session, List<PartitionRef> held, List<CheckpointEntry> entries,
      Set<PartitionId> omitted) {}

  private final String group;
  private final String consumerId;
  private long session;
  private boolean fenced;
  private long sessionTimeoutMs;
  private long nextHeartbeatMs;
  private boolean heartbeatNow;
  private boolean commitNow;
  private final TreeMap<PartitionId, Part> parts = new TreeMap<>();
  /** Highest epoch per partition whose commit was fenced: older grants are stale. */
  private final Map<PartitionId, Long> fencedEpochs = new HashMap<>();
  /** Readers started and not yet stopped, per partition (0 or 1 except while restarting). */
  private final Map<PartitionId, Integer> liveReaders = new HashMap<>();

  ConsumerState(String group, String consumerId) {
    this.group = group;
    this.consumerId = consumerId;
  }

  long session() {
    return session;
  }

  boolean fenced() {
    return fenced;
  }

  long sessionTimeoutMs() {
    return sessionTimeoutMs;
  }

  /** The interval the server suggested with its last result (0 before the first). */
  long nextHeartbeatMs() {
    return nextHeartbeatMs;
  }

  /** True when a heartbeat should go out at once (a release is ready, a rejoin is due). */
  boolean heartbeatNow() {
    return heartbeatNow;
  }

  /** True when a commit should go out at once (a partition finished). */
  boolean commitNow() {
    return commitNow;
  }

  Map<PartitionId, Part> parts() {
    return parts;
  }

  boolean hasPending() {
    for (Part p : parts.values()) {
      if (p.pending != null) {
        return true;
      }
    }
    return false;
  }

  /**
   * When the oldest checkpoint not yet sent was recorded; Long.MAX_VALUE if none. (Sent ones ride
   * on the next flush anyway if their answer does not come.)
   */
  long oldestPendingMs() {
    long oldest = Long.MAX_VALUE;
    for (Part p : parts.values()) {
      if (p.pending != null && p.pending != p.sent) {
        oldest = Math.min(oldest, p.pendingSinceMs);
      }
    }
    return oldest;
  }

  // ------------------------------------------------------------------ building requests

  Flush flush() {
    List<PartitionRef> held = new ArrayList<>();
    List<CheckpointEntry> entries = new ArrayList<>();
    Set<PartitionId> omitted = new HashSet<>();
    for (Map.Entry<PartitionId, Part> e : parts.entrySet()) {
      Part p = e.getValue();
      if (p.pending != null) {
        entries.add(p.pending);
        p.sent = p.pending;
      }
      if (p.phase == Phase.RELEASED && liveReaders(e.getKey()) == 0) {
        omitted.add(e.getKey());
      } else {
        held.add(e.getKey().toRef());
      }
    }
    heartbeatNow = false;
    commitNow = false;
    return new Flush(session, held, entries, omitted);
  }

  Heartbeat heartbeat(Flush f) {
    return Heartbeat.newBuilder().setGroup(group).setConsumerId(consumerId).setSession(f.session())
        .addAllHeld(f.held()).addAllCommits(f.entries()).build();
  }

  CommitCheckpoints commit(Flush f) {
    return CommitCheckpoints.newBuilder().setGroup(group).setConsumerId(consumerId)
        .setSession(f.session()).addAllEntries(f.entries()).build();
  }

  Leave leave(Flush f) {
    return Leave.newBuilder().setGroup(group).setConsumerId(consumerId).setSession(f.session())
        .addAllCommits(f.entries()).build();
  }

  // ------------------------------------------------------------------ events from readers

  /** A reader processed up to {@code cursor}; recorded as the partition's pending checkpoint. */
  void progress(PartitionId id, long epoch, String cursor, boolean finished, Long lag, Long lagMs,
      long nowMs) {
    Part p = parts.get(id);
    if (p == null || p.grant.epoch() != epoch || p.phase == Phase.RELEASED) {
      return;
    }
    p.position = cursor;
    if (!finished && cursor.equals(p.ackedCursor) && p.pending == null) {
      return;
    }
    CheckpointEntry.Builder b = CheckpointEntry.newBuilder().setTopic(id.topic())
        .setPartition(id.partition()).setEpoch(epoch).setCursor(cursor).setFinished(finished);
    if (lag != null) {
      b.setLag(lag);
    }
    if (lagMs != null) {
      b.setLagMs(lagMs);
    }
    if (p.pending == null || p.pending == p.sent) {
      p.pendingSinceMs = nowMs;
    }
    p.pending = b.build();
    if (finished) {
      commitNow = true;
    }
  }

  /**
   * A reader of this partition exited. The driver calls it once for every {@link Action.Start} it
   * was given, also when it never ran that reader (closing).
   */
  void readerStopped(PartitionId id, long epoch) {
    liveReaders.computeIfPresent(id, (k, n) -> n <= 1 ? null : n - 1);
    Part p = parts.get(id);
    if (p == null) {
      return;
    }
    if (p.phase == Phase.STOPPING && p.grant.epoch() == epoch) {
      p.phase = Phase.RELEASED;
    }
    if (p.phase == Phase.RELEASED && liveReaders(id) == 0) {
      heartbeatNow = true;
    }
  }

  int liveReaders(PartitionId id) {
    return liveReaders.getOrDefault(id, 0);
  }

  // ------------------------------------------------------------------ results

  /** A heartbeat (sent as {@code f}) succeeded. */
  List<Action> onHeartbeat(Flush f, HeartbeatResult r) {
    List<Action> out = new ArrayList<>();
    session = r.getSession();
    sessionTimeoutMs = r.getSessionTimeoutMs();
    nextHeartbeatMs = r.getNextHeartbeatMs();
    onCodes(f, r.getCommitCodesList(), out);

    for (PartitionId id : f.omitted()) {
      Part p = parts.get(id);
      if (p != null && p.phase == Phase.RELEASED) {
        parts.remove(id); // released: the server let go of it with this heartbeat (R2)
      }
    }

    Set<PartitionId> release = new HashSet<>();
    for (PartitionRef ref : r.getReleaseList()) {
      release.add(PartitionId.of(ref));
    }
    Set<PartitionId> granted = new HashSet<>();
    for (Grant g : r.getGrantsList()) {
      PartitionGrant grant = PartitionGrant.of(g);
      PartitionId id = grant.id();
      Long fencedAt = fencedEpochs.get(id);
      if (fencedAt != null && fencedAt >= grant.epoch()) {
        continue; // stale: a newer epoch already fenced us
      }
      granted.add(id);
      Part p = parts.get(id);
      if (p != null && p.grant.epoch() == grant.epoch()) {
        boolean changed = p.grant.sealed() != grant.sealed()
            || !java.util.Objects.equals(p.grant.endCursor(), grant.endCursor());
        p.grant = grant;
        if (p.phase == Phase.RUNNING && p.paused) {
          p.paused = false;
          start(out, p, p.position);
        } else if (changed && liveReaders(id) > 0) {
          out.add(new Action.Refresh(grant));
        }
        continue;
      }
      if (p != null && liveReaders(id) > 0 && p.phase != Phase.RELEASED) {
        out.add(new Action.Stop(p.grant, RevokeReason.RESET)); // a new epoch: restart from its cursor
      }
      Part fresh = new Part(grant);
      parts.put(id, fresh);
      if (release.contains(id)) {
        fresh.phase = Phase.RELEASED; // never read under this epoch: hand it over at once
        heartbeatNow = true;
      } else {
        start(out, fresh, grant.cursor());
      }
    }

    for (PartitionId id : new ArrayList<>(parts.keySet())) {
      if (!granted.contains(id)) {
        Part p = parts.remove(id); // the coordinator does not list it as ours: drop it now
        out.add(new Action.Stop(p.grant, RevokeReason.FENCED));
      }
    }

    for (PartitionId id : release) {
      Part p = parts.get(id);
      if (p != null && p.phase == Phase.RUNNING) {
        p.paused = false;
        if (liveReaders(id) > 0) {
          p.phase = Phase.STOPPING;
          out.add(new Action.Stop(p.grant, RevokeReason.RELEASED));
        } else {
          p.phase = Phase.RELEASED;
          heartbeatNow = true;
        }
      }
    }
    for (Map.Entry<PartitionId, Part> e : parts.entrySet()) {
      if (e.getValue().phase == Phase.RELEASED && liveReaders(e.getKey()) == 0) {
        heartbeatNow = true;
      }
    }
    return out;
  }

  /** A commit (sent as {@code f}) succeeded with one code per entry. */
  List<Action> onCommit(Flush f, List<Code> codes) {
    List<Action> out = new ArrayList<>();
    onCodes(f, codes, out);
    return out;
  }

  private void onCodes(Flush f, List<Code> codes, List<Action> out) {
    List<CheckpointEntry> entries = f.entries();
    for (int i = 0; i < entries.size() && i < codes.size(); i++) {
      CheckpointEntry e = entries.get(i);
      Code code = codes.get(i);
      PartitionId id = new PartitionId(e.getTopic(), e.getPartition());
      Part p = parts.get(id);
      boolean current = p != null && p.grant.epoch() == e.getEpoch();
      if (code == Code.OK) {
        out.add(new Action.Acked(id, e));
        if (current) {
          p.ackedCursor = e.getCursor();
          if (p.pending == e) {
            p.pending = null;
          }
          if (e.getFinished()) {
            parts.remove(id); // read to its end: the coordinator dropped the grant (R5)
            out.add(new Action.Stop(p.grant, RevokeReason.FINISHED));
          }
        }
      } else if (code == Code.FENCED) {
        fencedEpochs.merge(id, e.getEpoch(), Math::max);
        if (current) {
          parts.remove(id);
          out.add(new Action.Stop(p.grant, RevokeReason.FENCED));
        }
      } else {
        out.add(new Action.Refused(id, e, code));
        if (current && p.pending == e) {
          p.pending = null; // retrying the same entry cannot help
        }
      }
    }
  }

  /**
   * A heartbeat or commit was refused as a whole: FENCED (another process took the session over:
   * stop for good), UNKNOWN_MEMBER (expired or left: stop and rejoin at once), NOT_FOUND (the group
   * is gone: stop, rejoin later). Other codes change nothing.
   */
  List<Action> onRejected(Code code) {
    List<Action> out = new ArrayList<>();
    switch (code) {
      case FENCED -> {
        fenced = true;
        stopAll(RevokeReason.CONSUMER_FENCED, out);
        out.add(new Action.ConsumerFenced());
      }
      case UNKNOWN_MEMBER -> {
        stopAll(RevokeReason.SESSION_LOST, out);
        session = 0;
        heartbeatNow = true;
      }
      case NOT_FOUND -> {
        stopAll(RevokeReason.SESSION_LOST, out);
        session = 0;
      }
      default -> {
      }
    }
    return out;
  }

  /** No heartbeat succeeded for too long: stop reading, keep the partitions, resume if still ours. */
  List<Action> pauseAll() {
    List<Action> out = new ArrayList<>();
    for (Part p : parts.values()) {
      if (p.phase == Phase.RUNNING && !p.paused) {
        p.paused = true;
        out.add(new Action.Stop(p.grant, RevokeReason.SESSION_AT_RISK));
      }
    }
    return out;
  }

  boolean paused() {
    for (Part p : parts.values()) {
      if (p.paused) {
        return true;
      }
    }
    return false;
  }

  /** Stops every reader (closing); pending checkpoints stay for the leave. */
  List<Action> stopReaders(RevokeReason reason) {
    List<Action> out = new ArrayList<>();
    for (Part p : parts.values()) {
      if (p.phase == Phase.RUNNING && !p.paused) {
        out.add(new Action.Stop(p.grant, reason));
      }
      p.paused = true;
    }
    return out;
  }

  private void stopAll(RevokeReason reason, List<Action> out) {
    for (Part p : parts.values()) {
      out.add(new Action.Stop(p.grant, reason));
    }
    parts.clear();
    fencedEpochs.clear();
  }

  private void start(List<Action> out, Part p, String cursor) {
    liveReaders.merge(p.grant.id(), 1, Integer::sum); // counted now, so this result sees it
    out.add(new Action.Start(p.grant, cursor));
  }
}
