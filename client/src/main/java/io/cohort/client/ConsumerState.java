package io.cohort.client;

import com.google.protobuf.ByteString;

import io.cohort.client.HeldPartition.Phase;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.ReaderError;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The consumer's protocol logic (R1–R3, DESIGN §7) with no threads, no clock and no I/O: it builds
 * heartbeats and commits under a {@link CommandBudget}, digests their results and says which
 * readers to start and stop and which commit futures to settle. The consumer's loop drives it from
 * one thread; tests drive it directly.
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

    /** A checkpoint was refused (a code other than OK or FENCED): it is dropped, not retried. */
    record Refused(PartitionId id, CheckpointEntry entry, Code code) implements Action {}

    /** The session was taken over by another process: readers stop, then it leaves (R2). */
    record ConsumerFenced() implements Action {}

    /** Complete these commit futures (error null) or fail them. */
    record Settle(List<CompletableFuture<Void>> waiters, Throwable error) implements Action {}
  }

  /**
   * What one heartbeat, commit or leave carried, to match its result against: {@code seqs} are the
   * entries' sequence numbers, {@code leftOver} the pending entries that did not fit the budget,
   * {@code bytes} the command's size as counted.
   */
  record Flush(ByteString session, List<PartitionRef> held, List<CheckpointEntry> entries, List<Long> seqs,
      Set<PartitionId> omitted, int leftOver, int bytes, List<ReaderError> errors) {}

  private final String group;
  private final String consumerId;
  private final PartitionTable table = new PartitionTable();
  private final CheckpointBook book;
  /** The session token the join returned: opaque; empty while not a member. */
  private ByteString session = ByteString.EMPTY;
  private boolean fenced;
  private boolean retiring;
  /** Set while digesting an answer that came too late to start readers on. */
  private boolean deferStarts;
  private long sessionTimeoutMs;
  private long nextHeartbeatMs;
  private boolean heartbeatNow;
  /** Partitions the poison policy stopped, and where: not read again there (see {@link PoisonPolicy}). */
  private final Map<PartitionId, Optional<String>> poisoned = new HashMap<>();

  ConsumerState(String group, String consumerId) {
    this.group = group;
    this.consumerId = consumerId;
    this.book = new CheckpointBook(group, consumerId, table);
  }

  ByteString session() {
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

  /** True when a commit should go out at once (a partition finished, entries left over, asked for). */
  boolean commitNow() {
    return book.commitNow();
  }

  Map<PartitionId, HeldPartition> parts() {
    return table.asMap();
  }

  int liveReaders(PartitionId id) {
    return table.liveReaders(id);
  }

  /** True when no reader runs (every Start was matched by a readerStopped). */
  boolean readersStopped() {
    return table.readersStopped();
  }

  boolean hasPending() {
    return book.hasPending();
  }

  /**
   * When the oldest checkpoint not yet sent was recorded; Long.MAX_VALUE if none. (Sent ones ride
   * on the next flush anyway if their answer does not come.)
   */
  long oldestPendingMs() {
    return book.oldestUnsentMs();
  }

  // ------------------------------------------------------------------ building requests

  /** A heartbeat's flush under the default budget (tests). */
  Flush flush() {
    return flush(true, new CommandBudget());
  }

  /** The next command's content under the budget (see {@link CheckpointBook#flush}). */
  Flush flush(boolean forHeartbeat, CommandBudget budget) {
    Flush f = book.flush(session, forHeartbeat, budget);
    if (forHeartbeat) {
      heartbeatNow = false;
      for (HeldPartition p : table.all()) {
        if (p.phase == Phase.RELEASED && table.liveReaders(p.id()) == 0 && !f.omitted().contains(p.id())) {
          heartbeatNow = true; // its final checkpoint did not fit: the release goes with the next one
        }
      }
    }
    return f;
  }

  Heartbeat heartbeat(Flush f) {
    return Heartbeat.newBuilder().setGroup(group).setConsumerId(consumerId).setSessionToken(f.session())
        .addAllHeld(f.held()).addAllCommits(f.entries()).addAllErrors(f.errors()).build();
  }

  /** A quiet heartbeat that only shows this session alive (step 11): no held list, no commits. */
  Heartbeat keepAlive() {
    return Heartbeat.newBuilder().setGroup(group).setConsumerId(consumerId).setSessionToken(session).build();
  }

  CommitCheckpoints commit(Flush f) {
    return CommitCheckpoints.newBuilder().setGroup(group).setConsumerId(consumerId)
        .setSessionToken(f.session()).addAllEntries(f.entries()).addAllErrors(f.errors()).build();
  }

  Leave leave(Flush f) {
    return Leave.newBuilder().setGroup(group).setConsumerId(consumerId).setSessionToken(f.session())
        .addAllCommits(f.entries()).build();
  }

  /** A command was refused as a whole and smaller ones follow: send again at once. */
  void resend(boolean heartbeat) {
    if (heartbeat) {
      heartbeatNow = true;
    } else {
      book.commitNow(true);
    }
  }

  // ------------------------------------------------------------------ events from readers and the application

  /** Auto-commit: a reader processed up to {@code cursor}; it becomes the pending checkpoint. */
  void progress(PartitionId id, long epoch, String cursor, boolean finished, Long lag, Long lagMs, long nowMs) {
    book.progress(id, epoch, cursor, finished, lag, lagMs, nowMs);
  }

  /** Acknowledge-later: a reader read up to {@code cursor}; only its position moves. */
  void position(PartitionId id, long epoch, String cursor, boolean endReached, Long lag, Long lagMs) {
    book.position(id, epoch, cursor, endReached, lag, lagMs);
  }

  /** See {@link CheckpointBook#acknowledge}. */
  CompletableFuture<Void> acknowledge(PartitionId id, long epoch, String cursor, long nowMs) {
    return book.acknowledge(id, epoch, cursor, nowMs);
  }

  /** Commit everything pending now; the future completes when all of it is acknowledged. */
  CompletableFuture<Void> commitAll() {
    return book.commitAll();
  }

  /** A reader failed on the batch at {@code cursor}: reported with the next heartbeat or commit. */
  void failed(PartitionId id, long epoch, String cursor, String message, int attempts, boolean skipped) {
    HeldPartition p = table.current(id, epoch);
    if (p != null) {
      p.pendingError = CheckpointBook.error(id, epoch, cursor, message, attempts, skipped);
    }
  }

  /**
   * The poison policy stopped this partition's reader at {@code cursor}: it is released once the
   * reader stopped, and not read again at that position (a grant back at it is held, not read).
   */
  void poisoned(PartitionId id, long epoch, String cursor) {
    HeldPartition p = table.current(id, epoch);
    if (p != null && p.phase == Phase.RUNNING) {
      poisoned.put(id, Optional.ofNullable(cursor));
      p.phase = Phase.STOPPING;
    }
  }

  /** Partitions held but not read because the poison policy stopped them there. */
  Set<PartitionId> parked() {
    Set<PartitionId> out = new java.util.TreeSet<>();
    for (HeldPartition p : table.all()) {
      if (p.parked) {
        out.add(p.id());
      }
    }
    return out;
  }

  /**
   * A reader of this partition exited. The driver calls it once for every {@link Action.Start} it
   * was given, also when it never ran that reader (closing).
   */
  void readerStopped(PartitionId id, long epoch) {
    table.readerStopped(id);
    HeldPartition p = table.get(id);
    if (p == null) {
      return;
    }
    if (p.phase == Phase.STOPPING && p.grant.epoch() == epoch) {
      p.phase = Phase.RELEASED;
    }
    if (p.phase == Phase.RELEASED && table.liveReaders(id) == 0) {
      heartbeatNow = true;
    }
  }

  // ------------------------------------------------------------------ results

  /** A heartbeat (sent as {@code f}) succeeded. */
  List<Action> onHeartbeat(Flush f, HeartbeatResult r) {
    return onHeartbeat(f, r, true);
  }

  /**
   * A heartbeat succeeded. When its answer came too late to trust ({@code fresh} false: the session
   * may have expired since it was sent, R2), no reader starts: new grants wait paused for the next
   * answer that is fresh.
   */
  List<Action> onHeartbeat(Flush f, HeartbeatResult r, boolean fresh) {
    deferStarts = !fresh;
    try {
      return applyHeartbeat(f, r);
    } finally {
      deferStarts = false;
    }
  }

  private List<Action> applyHeartbeat(Flush f, HeartbeatResult r) {
    List<Action> out = new ArrayList<>();
    book.onErrorsSent(f);
    session = r.getSessionToken();
    sessionTimeoutMs = r.getSessionTimeoutMs();
    nextHeartbeatMs = r.getNextHeartbeatMs();
    book.onCodes(f, r.getCommitCodesList(), out);

    for (PartitionId id : f.omitted()) {
      HeldPartition p = table.get(id);
      if (p != null && p.phase == Phase.RELEASED) {
        table.drop(p, out, Code.FENCED, "released"); // the server let go of it with this heartbeat (R2)
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
      if (table.stale(id, grant.epoch())) {
        continue; // stale: a newer epoch already fenced us
      }
      granted.add(id);
      HeldPartition p = table.get(id);
      if (p != null && p.grant.epoch() == grant.epoch()) {
        boolean changed = p.grant.sealed() != grant.sealed() || !Objects.equals(p.grant.endCursor(), grant.endCursor());
        p.grant = grant;
        if (p.phase == Phase.RUNNING && p.paused && !retiring && !p.parked) {
          p.paused = false;
          start(out, p, p.position);
        } else if (changed && table.liveReaders(id) > 0) {
          out.add(new Action.Refresh(grant));
        }
        continue;
      }
      if (p != null) {
        if (table.liveReaders(id) > 0 && p.phase != Phase.RELEASED) {
          out.add(new Action.Stop(p.grant, RevokeReason.RESET)); // a new epoch: restart from its cursor
        }
        table.drop(p, out, Code.FENCED, "replaced by epoch " + grant.epoch());
      }
      HeldPartition fresh = new HeldPartition(grant);
      table.put(fresh);
      if (release.contains(id)) {
        fresh.phase = Phase.RELEASED; // never read under this epoch: hand it over at once
        heartbeatNow = true;
      } else if (retiring) {
        fresh.paused = true; // never read: it goes with the leave
      } else if (Optional.ofNullable(grant.cursor()).equals(poisoned.get(id))) {
        fresh.parked = true; // back where the poison policy stopped it: held, not read
      } else {
        poisoned.remove(id);
        start(out, fresh, grant.cursor());
      }
    }

    for (PartitionId id : new ArrayList<>(table.asMap().keySet())) {
      if (!granted.contains(id)) {
        HeldPartition p = table.get(id); // the coordinator does not list it as ours: drop it now
        out.add(new Action.Stop(p.grant, RevokeReason.FENCED));
        table.drop(p, out, Code.FENCED, "no longer granted");
      }
    }

    for (PartitionId id : release) {
      HeldPartition p = table.get(id);
      if (p != null && p.phase == Phase.RUNNING) {
        p.paused = false;
        if (table.liveReaders(id) > 0) {
          p.phase = Phase.STOPPING;
          out.add(new Action.Stop(p.grant, RevokeReason.RELEASED));
        } else {
          p.phase = Phase.RELEASED;
          heartbeatNow = true;
        }
      }
    }
    for (HeldPartition p : table.all()) {
      if (p.phase == Phase.RELEASED && table.liveReaders(p.id()) == 0) {
        heartbeatNow = true;
      }
    }
    return out;
  }

  /** A commit or leave (sent as {@code f}) succeeded with one code per entry. */
  List<Action> onCommit(Flush f, List<Code> codes) {
    List<Action> out = new ArrayList<>();
    book.onErrorsSent(f);
    book.onCodes(f, codes, out);
    return out;
  }

  /** A command carrying entries was refused as a whole because of them: they are dropped. */
  List<Action> dropEntries(Flush f, Code code) {
    return book.dropEntries(f, code);
  }

  /** The command sent as {@code f} got no answer: its waiters fail; its entries go again later. */
  List<Action> onFailed(Flush f, Throwable error) {
    return book.onFailed(f, error);
  }

  /** The end: every commit future still waiting fails. */
  List<Action> failAllWaiters(Throwable error) {
    return book.failAllWaiters(error);
  }

  /**
   * A heartbeat or commit was refused as a whole: FENCED (another process took the session over:
   * stop every reader, keep the checkpoints and the session for the final leave), UNKNOWN_MEMBER
   * (expired or left: stop and rejoin at once), NOT_FOUND (the group is gone: stop, rejoin later).
   * Other codes change nothing.
   */
  List<Action> onRejected(Code code) {
    List<Action> out = new ArrayList<>();
    switch (code) {
      case FENCED -> {
        fenced = true;
        out.addAll(stopReaders(RevokeReason.CONSUMER_FENCED));
        out.add(new Action.ConsumerFenced());
      }
      case UNKNOWN_MEMBER -> {
        table.dropAll(RevokeReason.SESSION_LOST, code, out);
        session = ByteString.EMPTY;
        heartbeatNow = true;
      }
      case NOT_FOUND -> {
        table.dropAll(RevokeReason.SESSION_LOST, code, out);
        session = ByteString.EMPTY;
      }
      default -> {
      }
    }
    return out;
  }

  /** No heartbeat succeeded for too long: stop reading, keep the partitions, resume if still ours. */
  List<Action> pauseAll() {
    List<Action> out = new ArrayList<>();
    for (HeldPartition p : table.all()) {
      if (p.phase == Phase.RUNNING && !p.paused && !p.parked) {
        p.paused = true;
        out.add(new Action.Stop(p.grant, RevokeReason.SESSION_AT_RISK));
      }
    }
    return out;
  }

  /** Winding down (close, fenced, failed): stop every reader for good; checkpoints stay for the leave. */
  List<Action> stopReaders(RevokeReason reason) {
    retiring = true;
    List<Action> out = new ArrayList<>();
    for (HeldPartition p : table.all()) {
      if (table.liveReaders(p.id()) > 0) {
        out.add(new Action.Stop(p.grant, reason));
      }
      p.paused = true;
    }
    return out;
  }

  private void start(List<Action> out, HeldPartition p, String cursor) {
    if (deferStarts) {
      p.paused = true; // resumed by the next fresh answer that still lists this grant
      return;
    }
    table.readerStarted(p.id());
    out.add(new Action.Start(p.grant, cursor));
  }
}
