package io.cohort.statemachine;

/**
 * One partition as one group sees it: who holds it (and under which epoch), whether it is being
 * handed to someone else (R2), and its checkpoint.
 */
final class Slot {
  final String topic;
  final PartitionInfo info;

  MemberState holder;
  long epoch;
  /** The holder was told to release; {@code target} receives it afterwards (null: nobody yet). */
  boolean releasing;
  MemberState target;

  Checkpoint checkpoint; // null = none yet
  /** The holder has seen this grant in a heartbeat result, so omitting it from `held` releases it. */
  boolean announced;

  /** Derived: the grant as the holder is told it; cleared whenever epoch, checkpoint or partition change. */
  io.cohort.statemachine.proto.Grant cachedGrant;

  /** Scratch for the assignor: the member it should end up with. */
  MemberState owner;

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

  static int compare(Slot a, Slot b) {
    int c = a.topic.compareTo(b.topic);
    return c != 0 ? c : Integer.compare(a.info.id, b.info.id);
  }
}
