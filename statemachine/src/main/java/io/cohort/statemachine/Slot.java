package io.cohort.statemachine;

/**
 * One partition as one group sees it: who holds it (and under which epoch), whether it is being
 * handed to someone else (R2), and its checkpoint. Kept small: there may be a million of them (R9).
 */
final class Slot {
  final String topic;
  /** Replaced (never changed) when a split, merge or weight change touches the partition. */
  PartitionInfo info;

  MemberState holder;
  long epoch;
  /** The holder was told to release; {@code target} receives it afterwards (null: nobody yet). */
  boolean releasing;
  MemberState target;
  /** When the holder, asked to release, loses the grant if it has not released (R2); 0 when not releasing. */
  long releaseDeadlineMs;
  /**
   * When the holder (or, during a takeover, its replaced session) was asked to let go; kept past the
   * release until the next grant, which reports the handoff's duration (metrics). 0 = not asked.
   */
  long releaseAskedAtMs;
  /** The last failure its reader reported (step 9); null = none since the last commit after one. */
  ReaderFailure failure;

  Checkpoint checkpoint; // null = none yet
  /**
   * A replicated heartbeat's answer told the holder this grant, so omitting it from `held` releases
   * it (so does omitting a grant whose release is asked). A grant told off the log is not marked.
   */
  boolean announced;
  /** The grant belongs to the holder's replaced session: a static-membership takeover is pending (R2). */
  boolean oldSession;

  /** Scratch for the assignor: the member it should end up with. */
  MemberState owner;
  /** Scratch for one heartbeat: listed in its `held`. */
  boolean mark;

  Slot(String topic, PartitionInfo info) {
    this.topic = topic;
    this.info = info;
  }

  int partition() {
    return info.id;
  }

  boolean finished() {
    return checkpoint != null && checkpoint.finished();
  }

  /** (topic, partition id): the order of slots in a group and in a member's held list. */
  static int compare(Slot a, Slot b) {
    int c = a.topic.compareTo(b.topic);
    return c != 0 ? c : Integer.compare(a.info.id, b.info.id);
  }

  String name() {
    return topic + "/" + info.id;
  }
}
