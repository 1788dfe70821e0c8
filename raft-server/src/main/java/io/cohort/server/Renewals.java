package io.cohort.server;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Renewal;
import io.cohort.statemachine.proto.Tick;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Liveness the leader confirmed off the log (step 11: quiet heartbeats, shed heartbeats), kept in
 * memory until its ticker drains it into the next {@code Tick}. One entry per member, the latest.
 *
 * <p>Why a tick never expires a member whose quiet heartbeat was answered OK: the answer is given
 * under this lock at leader time {@code L} only while the member's deadline is not before {@code L};
 * a tick drained earlier carries an expiry cutoff read under this lock before, so no later than
 * {@code L}; a tick drained later carries the renewal, applied before its expiry check. A tick that
 * fails goes back here, and no other tick is drained while one is in flight ({@link LeaderTicker}).
 *
 * <p>Cleared when this node stops leading: the new leader's first entry of its term pushes every
 * deadline a full session timeout out (R6), which covers every renewal lost here.
 */
final class Renewals {
  private record Key(String group, String consumer) {}

  /**
   * A pending member's latest renewal, and when it was first heard since it was last drained: the
   * expiry cutoff's bound. A member heard again keeps its place and its latest renewal, but it was
   * alive since then, so a tick that leaves it behind must not expire it from that time on (under a
   * backlog, cutting at its latest time expired members that were heard all along: bench heartbeat,
   * 10,200 consumers). Updated in place, under the lock; the {@code Renewal} is built only when a
   * tick takes it (per answer, the proto and its builder were ~8 % of the leader's allocation).
   */
  private static final class Pending {
    ByteString session;
    long seenAtMs;
    long sessionTimeoutMs;
    long firstHeardMs;

    Pending(ByteString session, long seenAtMs, long sessionTimeoutMs) {
      this.session = session;
      this.seenAtMs = seenAtMs;
      this.sessionTimeoutMs = sessionTimeoutMs;
      this.firstHeardMs = seenAtMs;
    }

    Renewal renewal(Key k) {
      return Renewal.newBuilder().setGroup(k.group()).setConsumerId(k.consumer()).setSessionToken(session)
          .setSeenAtMs(seenAtMs).setSessionTimeoutMs(sessionTimeoutMs).build();
    }
  }

  private final Map<Key, Pending> pending = new LinkedHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();

  /** Runs {@code body} holding the lock that orders answers against drains. */
  <T> T locked(Supplier<T> body) {
    lock.lock();
    try {
      return body.get();
    } finally {
      lock.unlock();
    }
  }

  /** Whether a thread holds the lock now (a hint: a thread that must not wait goes elsewhere). */
  boolean busy() {
    return lock.isLocked();
  }

  /** @param sessionTimeoutMs the session the answer told the client; 0 = the group's when applied */
  void record(String group, String consumer, ByteString session, long seenAtMs, long sessionTimeoutMs) {
    lock.lock();
    try {
      Key k = new Key(group, consumer);
      Pending had = pending.get(k);
      if (had == null) {
        pending.put(k, new Pending(session, seenAtMs, sessionTimeoutMs));
        return;
      }
      // Replaced in place: drained in the order first heard since the last drain. Moving it to the end
      // starved members heard every interval whenever drains fell behind, until their deadlines ran out.
      had.firstHeardMs = Math.min(had.firstHeardMs, seenAtMs);
      if (!had.session.equals(session) || had.seenAtMs < seenAtMs) {
        had.session = session;
        had.seenAtMs = seenAtMs;
        had.sessionTimeoutMs = sessionTimeoutMs;
      }
    } finally {
      lock.unlock();
    }
  }

  boolean isEmpty() {
    return locked(pending::isEmpty);
  }

  int size() {
    return locked(pending::size);
  }

  void clear() {
    locked(() -> {
      pending.clear();
      return null;
    });
  }

  /**
   * The next tick: at most {@code maxCount} renewals in at most about {@code maxBytes}, oldest
   * first, and the expiry cutoff: now, or when a member left behind was first heard, if earlier.
   */
  Tick drain(LongSupplier nowMs, int maxCount, int maxBytes) {
    return locked(() -> {
      Tick.Builder t = Tick.newBuilder();
      long cutoff = nowMs.getAsLong();
      int bytes = 0;
      Iterator<Map.Entry<Key, Pending>> it = pending.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<Key, Pending> e = it.next();
        if (t.getRenewalsCount() >= maxCount) {
          break;
        }
        Renewal r = e.getValue().renewal(e.getKey());
        int size = r.getSerializedSize() + 4;
        if (bytes + size > maxBytes) {
          break;
        }
        t.addRenewals(r);
        bytes += size;
        it.remove();
      }
      for (Pending p : pending.values()) {
        cutoff = Math.min(cutoff, p.firstHeardMs);
      }
      return t.setExpiryCutoffMs(cutoff).build();
    });
  }

  /** A drained tick was not applied: its renewals wait for the next one (newer ones kept). */
  void restore(Tick tick) {
    locked(() -> {
      for (Renewal r : tick.getRenewalsList()) {
        record(r.getGroup(), r.getConsumerId(), r.getSessionToken(), r.getSeenAtMs(), r.getSessionTimeoutMs());
      }
      return null;
    });
  }
}
