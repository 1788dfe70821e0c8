package io.cohort.client;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer's one watch on the leader (R12), on the consumer's loop thread. After each heartbeat
 * answer it places a watch carrying the view that answer gave; when the watch says the view
 * changed (or the session or group is gone), the consumer heartbeats at once, and the next watch
 * goes once that heartbeat is answered. A hint only: the heartbeat decides everything (R2).
 *
 * <p>It follows the leader: it keeps the peer that last answered; a follower's "not leader" names
 * the leader (or the next peer is tried); any other failure tries the next peer; a heartbeat
 * answered while the client has seen another peer lead moves the watch there. Once every peer
 * failed in a row it waits (100 ms, doubling per failed sweep up to the heartbeat interval or 5 s,
 * with jitter) before the next sweep; the regular heartbeat interval goes on meanwhile, so a watch
 * that cannot be placed costs nothing but the hint. While a watch is placed a pending handoff is
 * not polled at its short interval (the watch says when it has news); once one fails, it is again.
 */
final class Watcher {
  private static final Logger LOG = LoggerFactory.getLogger(Watcher.class);
  /** How much longer than the watch's own timeout the client waits for its answer. */
  static final long SLACK_MS = 5_000;
  /** The first wait after every peer failed; it doubles per failed sweep up to the interval (at most 5 s). */
  static final long MIN_RETRY_MS = 100;
  static final long MAX_RETRY_MS = 5_000;

  /** What the watcher needs of its consumer. */
  interface Host {
    /** Heartbeat at once (the watch saw a change). */
    void heartbeatNow();

    /** The placed watch failed or was refused: no watch covers a handoff until one is placed again. */
    void watchLost();

    boolean post(Runnable r);
  }

  private final Host host;
  private final WatchChannel channel;
  private final ScheduledExecutorService timer;
  private final String group;
  private final String consumerId;
  private final long timeoutMs;
  private final String logPrefix;

  // loop-thread state
  private ByteString session = ByteString.EMPTY;
  private long view;
  private long intervalMs = Pacer.FIRST_INTERVAL_MS;
  private WatchChannel.Call placed;
  private String placedOn;
  private long generation;
  private String preferred;
  private int next;
  private int failuresInARow;
  private boolean waitingForHeartbeat;
  private ScheduledFuture<?> retry;
  private boolean stopped;
  private volatile long changes;

  Watcher(Host host, WatchChannel channel, ScheduledExecutorService timer, String group, String consumerId,
      long timeoutMs, String logPrefix) {
    this.host = host;
    this.channel = channel;
    this.timer = timer;
    this.group = group;
    this.consumerId = consumerId;
    this.timeoutMs = Math.min(timeoutMs, WatchProtocol.MAX_TIMEOUT_MS);
    this.logPrefix = logPrefix;
  }

  /** Watches that said "heartbeat now" so far (tests, metrics). */
  long changes() {
    return changes;
  }

  /**
   * A watch for the current session and view is on its way or parked: a handoff needs no short
   * poll, the watch makes the consumer heartbeat. False once it failed, until the next is placed.
   */
  boolean placed() {
    return placed != null && !stopped;
  }

  /**
   * A heartbeat was answered: the session and the view it gave. The watch is placed again when
   * either changed, or when the client has since seen another peer lead than the one it waits on: a
   * leader stopped by a long pause keeps its connections open, and the watch on it would stay
   * silent until its deadline while heartbeats are answered elsewhere.
   */
  void heard(ByteString session, long view, long intervalMs) {
    this.intervalMs = intervalMs > 0 ? intervalMs : Pacer.FIRST_INTERVAL_MS;
    boolean same = placed != null && view == this.view && session.equals(this.session);
    String leader = channel.leader();
    boolean leaderMoved = placed != null && leader != null && !leader.equals(placedOn)
        && channel.peerIds().contains(leader);
    this.session = session;
    this.view = view;
    waitingForHeartbeat = false;
    if (!same || leaderMoved) {
      if (leaderMoved) {
        preferred = leader;
      }
      cancelPlaced();
      place();
    }
  }

  /** The session is gone: nothing to watch until the next join is answered. */
  void notMember() {
    session = ByteString.EMPTY;
    cancelPlaced();
  }

  void stop() {
    stopped = true;
    cancelPlaced();
    if (retry != null) {
      retry.cancel(false);
    }
  }

  private void cancelPlaced() {
    generation++;
    if (placed != null) {
      placed.cancel().run();
      placed = null;
    }
  }

  private void place() {
    if (stopped || session.isEmpty() || waitingForHeartbeat || placed != null
        || (retry != null && !retry.isDone())) {
      return;
    }
    List<String> peers = channel.peerIds(); // the configured ones and the members seen since
    String peer = preferred != null ? preferred : peers.get(Math.floorMod(next, peers.size()));
    long gen = ++generation;
    WatchRequest request = WatchRequest.newBuilder().setGroup(group).setConsumerId(consumerId)
        .setSessionToken(session).setKnownView(view).setTimeoutMs(timeoutMs).build();
    placed = channel.watch(peer, request, SLACK_MS);
    placedOn = peer;
    placed.result().whenComplete((r, e) -> host.post(() -> answered(gen, peer, r, e)));
  }

  private void answered(long gen, String peer, WatchResult r, Throwable e) {
    if (gen != generation || stopped) {
      return; // superseded or cancelled
    }
    placed = null;
    if (e == null) {
      failuresInARow = 0;
      preferred = peer;
      if (r.getCode() == Code.PERMISSION_DENIED) {
        LOG.warn("{} watch refused, heartbeats keep their interval: {}", logPrefix, r.getMessage());
        stop();
        host.watchLost();
        return;
      }
      if (r.getCode() != Code.OK || (r.getChanged() && r.getView() != view)) {
        changes++;
        waitingForHeartbeat = true; // the next watch carries what that heartbeat tells
        host.heartbeatNow();
        return;
      }
      place(); // timed out unchanged
      return;
    }
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof StatusRuntimeException sre && sre.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
      LOG.warn("{} watch refused, heartbeats keep their interval: {}", logPrefix, sre.getStatus().getDescription());
      stop();
      host.watchLost();
      return;
    }
    failuresInARow++;
    host.watchLost(); // before the next try: the pacer judges that one as placed again
    List<String> peers = channel.peerIds();
    if (cause instanceof WatchChannel.NotLeader nl && nl.leader != null && peers.contains(nl.leader)
        && !nl.leader.equals(peer)) {
      preferred = nl.leader;
    } else {
      preferred = null;
      next = peers.indexOf(peer) + 1;
    }
    if (failuresInARow % peers.size() != 0) {
      place(); // the next peer at once: one sweep over the peers
      return;
    }
    // Every peer failed (an election, say): wait, doubling per sweep, at most the interval (5 s cap).
    long cap = Math.max(MIN_RETRY_MS, Math.min(intervalMs, MAX_RETRY_MS));
    long base = Math.min(cap, MIN_RETRY_MS << Math.min(failuresInARow / peers.size() - 1, 10));
    long delay = (long) (base * (0.75 + 0.5 * ThreadLocalRandom.current().nextDouble()));
    LOG.debug("{} no watch could be placed ({}), heartbeats keep their interval; next try in {} ms", logPrefix,
        cause.toString(), delay);
    retry = timer.schedule(() -> host.post(() -> {
      retry = null;
      place();
    }), delay, TimeUnit.MILLISECONDS);
  }
}
