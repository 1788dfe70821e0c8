package io.cohort.statemachine;

import io.cohort.statemachine.proto.Grant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One consumer process in {@link Simulation}, as it sees itself. It judges its session by its own
 * monotonic clock, which runs at a slightly different rate than real time (R6): it reads a
 * partition only while it holds the grant, was not asked to release it, has not read it to its end,
 * and its own deadline — when it sent its last successful heartbeat, plus the session timeout,
 * minus a fifth as the real client does — has not passed. A crashed or cut-off process sends
 * nothing but, pessimistically, keeps reading until that deadline.
 */
final class SimProcess {
  /** How soon it omits a partition it was asked to release: at once, after a few heartbeats, never. */
  enum Release { PROMPT, SLOW, STUBBORN }

  final int id;
  final String group;
  final String consumer;
  final double drift;
  final long ownOffsetMs;
  Release release;

  com.google.protobuf.ByteString session = com.google.protobuf.ByteString.EMPTY;
  boolean connected = true;
  /** Its heartbeat was FENCED: a newer process took over; it stopped and owes a Leave with its old session. */
  boolean fenced;
  /** Left, or its group is gone: stopped for good. */
  boolean done;
  long lastOkSentOwnMs = Long.MIN_VALUE / 4;
  long sessionTimeoutMs;
  /** "topic/partition" -> the grant as last told. */
  final Map<String, Grant> grants = new TreeMap<>();
  /** Asked to release (stopped reading) -> heartbeats to go before it omits the partition. */
  final Map<String, Integer> releasing = new TreeMap<>();
  /** Read to its end: a finished commit was sent. */
  final Set<String> finishedSent = new TreeSet<>();
  /** Its last heartbeat's answer (null after anything else): whether the next may go quietly (step 11). */
  io.cohort.statemachine.proto.HeartbeatResult lastAnswer;
  /** The last command it sent whose answer it never got, to send again. */
  io.cohort.statemachine.proto.Command unanswered;
  /** Fenced: the Leave (old session, final commits) it sends next. */
  io.cohort.statemachine.proto.Command owedLeave;

  /** A command as sent, and the process's own clock then (a heartbeat's OK counts from its sending). */
  record Sent(io.cohort.statemachine.proto.Command command, long ownMs) {}

  SimProcess(int id, String group, String consumer, double drift, long ownOffsetMs, Release release) {
    this.id = id;
    this.group = group;
    this.consumer = consumer;
    this.drift = drift;
    this.ownOffsetMs = ownOffsetMs;
    this.release = release;
  }

  /** Its monotonic clock at a real time. */
  long ownMs(long realMs) {
    return ownOffsetMs + realMs + (long) (realMs * drift);
  }

  /** Whether it still trusts its session (by its own clock). */
  boolean trustsSession(long realMs) {
    return !session.isEmpty() && !fenced && !done
        && ownMs(realMs) < lastOkSentOwnMs + sessionTimeoutMs - sessionTimeoutMs / 5;
  }

  boolean reads(String key, long realMs) {
    return grants.containsKey(key) && !releasing.containsKey(key) && !finishedSent.contains(key)
        && trustsSession(realMs);
  }

  /** Stops every reader (as on FENCED or an unknown session); the grants are gone. */
  void stopAll() {
    grants.clear();
    releasing.clear();
    finishedSent.clear();
  }

  @Override
  public String toString() {
    return "process #" + id + " (" + group + "/" + consumer + ", session " + SessionIds.of(session) + ")";
  }
}
