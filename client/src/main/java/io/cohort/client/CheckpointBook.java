package io.cohort.client;

import io.cohort.client.ConsumerState.Action;
import io.cohort.client.ConsumerState.Flush;
import io.cohort.client.HeldPartition.Phase;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.Protocol;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.ReaderError;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A consumer's checkpoints (R3): what readers processed or the application acknowledged, which
 * entries the next command carries under its {@link CommandBudget}, and what their codes mean. No
 * threads, no clock, no I/O; one thread.
 */
final class CheckpointBook {
  private static final Comparator<HeldPartition> FLUSH_ORDER = Comparator
      .comparingInt((HeldPartition p) -> p.phase == Phase.RELEASED || p.pending.getFinished() ? 0 : 1)
      .thenComparingLong(p -> p.pendingSinceMs).thenComparing(HeldPartition::id);

  private final String group;
  private final String consumerId;
  private final PartitionTable table;
  private boolean commitNow;

  CheckpointBook(String group, String consumerId, PartitionTable table) {
    this.group = group;
    this.consumerId = consumerId;
    this.table = table;
  }

  /** True when a commit should go out at once (a partition finished, entries left over, asked for). */
  boolean commitNow() {
    return commitNow;
  }

  void commitNow(boolean v) {
    commitNow = v;
  }

  boolean hasPending() {
    for (HeldPartition p : table.all()) {
      if (p.pending != null) {
        return true;
      }
    }
    return false;
  }

  /** When the oldest checkpoint not yet sent was recorded; Long.MAX_VALUE if none. */
  long oldestUnsentMs() {
    long oldest = Long.MAX_VALUE;
    for (HeldPartition p : table.all()) {
      if (p.pending != null && p.pending != p.sent) {
        oldest = Math.min(oldest, p.pendingSinceMs);
      }
    }
    return oldest;
  }

  // ------------------------------------------------------------------ recording

  /** Auto-commit: a reader processed up to {@code cursor}; it becomes the pending checkpoint. */
  void progress(PartitionId id, long epoch, String cursor, boolean finished, Long lag, Long lagMs, long nowMs) {
    HeldPartition p = table.current(id, epoch);
    if (p == null || p.phase == Phase.RELEASED) {
      return;
    }
    position(p, cursor, finished, lag, lagMs);
    if (!finished && cursor.equals(p.ackedCursor) && p.pending == null) {
      return;
    }
    p.setPending(entry(id, epoch, cursor, finished, lag, lagMs), nowMs);
    commitNow |= finished;
  }

  /** Acknowledge-later: a reader read up to {@code cursor}; only its position moves. */
  void position(PartitionId id, long epoch, String cursor, boolean endReached, Long lag, Long lagMs) {
    HeldPartition p = table.current(id, epoch);
    if (p != null) {
      position(p, cursor, endReached, lag, lagMs);
    }
  }

  private static void position(HeldPartition p, String cursor, boolean endReached, Long lag, Long lagMs) {
    if (p.pendingError != null && !p.pendingError.getSkipped()) {
      p.pendingError = null; // the reader got past it: a failure not yet reported is stale (a skip is news)
    }
    p.position = cursor;
    p.lag = lag;
    p.lagMs = lagMs;
    if (endReached) {
      p.endSeen = cursor;
    }
  }

  /**
   * The application commits {@code cursor} of a grant it holds (R3: under that grant's epoch); it
   * is finished when it is where the reader saw the sealed partition end. The future completes when
   * the cluster acknowledged it or a later checkpoint of the partition.
   */
  CompletableFuture<Void> acknowledge(PartitionId id, long epoch, String cursor, long nowMs) {
    HeldPartition p = table.current(id, epoch);
    if (p == null) {
      return CompletableFuture.failedFuture(new CohortRejectedException(Code.FENCED,
          id + " epoch " + epoch + " is not held by this consumer now"));
    }
    boolean finished = p.grant.isEnd(cursor) || cursor.equals(p.endSeen);
    if (!finished && cursor.equals(p.ackedCursor) && p.pending == null) {
      return CompletableFuture.completedFuture(null);
    }
    p.setPending(entry(id, epoch, cursor, finished, p.lag, p.lagMs), nowMs);
    commitNow |= finished;
    return p.waitForPending();
  }

  /** Commit everything pending now; the future completes when all of it is acknowledged. */
  CompletableFuture<Void> commitAll() {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (HeldPartition p : table.all()) {
      if (p.pending != null) {
        all.add(p.waitForPending());
      }
    }
    commitNow |= !all.isEmpty();
    return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]));
  }

  private static CheckpointEntry entry(PartitionId id, long epoch, String cursor, boolean finished, Long lag,
      Long lagMs) {
    CheckpointEntry.Builder b = CheckpointEntry.newBuilder().setTopic(id.topic())
        .setPartition(id.partition()).setEpoch(epoch).setCursor(cursor).setFinished(finished);
    if (lag != null) {
      b.setLag(finished ? 0 : lag);
    }
    if (lagMs != null) {
      b.setLagMs(lagMs);
    }
    return b.build();
  }

  // ------------------------------------------------------------------ flushing

  /**
   * Takes the pending checkpoints that fit the budget (releases and finished partitions first,
   * then the oldest) and, for a heartbeat, the held list. A released partition whose final
   * checkpoint did not fit stays held, so it is never let go without it (R2).
   */
  Flush flush(com.google.protobuf.ByteString session, boolean forHeartbeat, CommandBudget budget) {
    List<PartitionRef> held = new ArrayList<>();
    List<PartitionRef> counted = new ArrayList<>();
    List<HeldPartition> releasing = new ArrayList<>();
    List<HeldPartition> candidates = new ArrayList<>();
    for (HeldPartition p : table.all()) {
      if (p.phase == Phase.RELEASED && table.liveReaders(p.id()) == 0) {
        releasing.add(p);
      } else {
        held.add(p.id().toRef());
      }
      if (forHeartbeat) {
        counted.add(p.id().toRef()); // every one counted as held, whichever are omitted
      }
      if (p.pending != null) {
        candidates.add(p);
      }
    }
    candidates.sort(FLUSH_ORDER);
    int base = CommandBudget.baseBytes(group, consumerId, session, counted);
    int bytes = base;
    List<CheckpointEntry> entries = new ArrayList<>();
    List<Long> seqs = new ArrayList<>();
    Set<PartitionId> included = new HashSet<>();
    int leftOver = 0;
    for (HeldPartition p : candidates) {
      int size = CommandBudget.entryBytes(p.pending);
      // an entry too large for any command goes alone: its refusal then drops it (never a loop)
      boolean fits = bytes + size <= budget.maxBytes() || entries.isEmpty() && base + size > budget.maxBytes();
      if (entries.size() < budget.maxEntries() && fits) {
        entries.add(p.pending);
        seqs.add(p.pendingSeq);
        included.add(p.id());
        p.sent = p.pending;
        bytes += size;
      } else {
        leftOver++;
      }
    }
    Set<PartitionId> omitted = new HashSet<>();
    if (forHeartbeat) {
      for (HeldPartition p : releasing) {
        if (p.pending == null || included.contains(p.id())) {
          omitted.add(p.id());
        } else {
          held.add(p.id().toRef());
        }
      }
    }
    commitNow = leftOver > 0;
    List<ReaderError> errors = new ArrayList<>();
    for (HeldPartition p : table.all()) {
      if (p.pendingError != null && errors.size() < budget.maxEntries()) {
        int size = CommandBudget.errorBytes(p.pendingError);
        if (bytes + size <= budget.maxBytes()) {
          errors.add(p.pendingError); // rides along; a later one replaces it
          bytes += size;
        }
      }
    }
    return new Flush(session, forHeartbeat ? held : List.of(), entries, seqs, omitted, leftOver, bytes, errors);
  }

  /** The command carrying {@code f} was answered: its errors were reported (or refused: not again). */
  void onErrorsSent(Flush f) {
    for (ReaderError e : f.errors()) {
      HeldPartition p = table.current(new PartitionId(e.getTopic(), e.getPartition()), e.getEpoch());
      if (p != null && p.pendingError == e) {
        p.pendingError = null;
      }
    }
  }

  /** A reader error as reported (step 9): the message cut to what the cluster takes. */
  static ReaderError error(PartitionId id, long epoch, String cursor, String message, int attempts,
      boolean skipped) {
    ReaderError.Builder b = ReaderError.newBuilder().setTopic(id.topic()).setPartition(id.partition())
        .setEpoch(epoch).setMessage(cutUtf8(message, Protocol.MAX_ERROR_MESSAGE_BYTES)).setAttempts(attempts)
        .setSkipped(skipped);
    if (cursor != null) {
      b.setCursor(cursor);
    }
    return b.build();
  }

  /** The longest prefix of {@code s} that is at most {@code maxBytes} in UTF-8, never splitting a character. */
  static String cutUtf8(String s, int maxBytes) {
    if (s.length() * 3 <= maxBytes || s.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
      return s;
    }
    int bytes = 0;
    int i = 0;
    while (i < s.length()) {
      int cp = s.codePointAt(i);
      int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + n > maxBytes) {
        break;
      }
      bytes += n;
      i += Character.charCount(cp);
    }
    return s.substring(0, i);
  }

  // ------------------------------------------------------------------ answers

  /** The entries of {@code f} were answered with one code each. */
  void onCodes(Flush f, List<Code> codes, List<Action> out) {
    List<CheckpointEntry> entries = f.entries();
    for (int i = 0; i < entries.size() && i < codes.size(); i++) {
      CheckpointEntry e = entries.get(i);
      Code code = codes.get(i);
      PartitionId id = new PartitionId(e.getTopic(), e.getPartition());
      HeldPartition p = table.current(id, e.getEpoch());
      if (code == Code.OK) {
        out.add(new Action.Acked(id, e));
        if (p != null) {
          p.ackedCursor = e.getCursor();
          if (p.pending == e) {
            p.pending = null;
          }
          settle(out, p.takeWaiters(f.seqs().get(i)), null);
          if (e.getFinished()) {
            out.add(new Action.Stop(p.grant, RevokeReason.FINISHED));
            table.drop(p, out, Code.FENCED, "finished"); // read to its end: the coordinator dropped the grant (R5)
          }
        }
      } else if (code == Code.FENCED) {
        table.fenced(id, e.getEpoch());
        if (p != null) {
          out.add(new Action.Stop(p.grant, RevokeReason.FENCED));
          table.drop(p, out, Code.FENCED, "its checkpoint was fenced");
        }
      } else {
        refuse(p, id, e, f.seqs().get(i), code, out);
      }
    }
  }

  /** A command was refused as a whole because of its entries: they are dropped, not retried. */
  List<Action> dropEntries(Flush f, Code code) {
    List<Action> out = new ArrayList<>();
    for (int i = 0; i < f.entries().size(); i++) {
      CheckpointEntry e = f.entries().get(i);
      PartitionId id = new PartitionId(e.getTopic(), e.getPartition());
      refuse(table.current(id, e.getEpoch()), id, e, f.seqs().get(i), code, out);
    }
    return out;
  }

  private static void refuse(HeldPartition p, PartitionId id, CheckpointEntry e, long seq, Code code,
      List<Action> out) {
    out.add(new Action.Refused(id, e, code));
    if (p != null) {
      if (p.pending == e) {
        p.pending = null; // the same entry again cannot help
      }
      settle(out, p.takeWaiters(seq), new CohortRejectedException(code,
          "checkpoint of " + id + " at '" + e.getCursor() + "' refused"));
    }
  }

  /** The command sent as {@code f} got no answer: its waiters fail; its entries go again later. */
  List<Action> onFailed(Flush f, Throwable error) {
    List<Action> out = new ArrayList<>();
    for (int i = 0; i < f.entries().size(); i++) {
      CheckpointEntry e = f.entries().get(i);
      HeldPartition p = table.current(new PartitionId(e.getTopic(), e.getPartition()), e.getEpoch());
      if (p != null) {
        settle(out, p.takeWaiters(f.seqs().get(i)), error);
      }
    }
    return out;
  }

  /** The end: every commit future still waiting fails. */
  List<Action> failAllWaiters(Throwable error) {
    List<Action> out = new ArrayList<>();
    for (HeldPartition p : table.all()) {
      settle(out, p.takeAllWaiters(), error);
    }
    return out;
  }

  private static void settle(List<Action> out, List<CompletableFuture<Void>> waiters, Throwable error) {
    if (!waiters.isEmpty()) {
      out.add(new Action.Settle(waiters, error));
    }
  }
}
