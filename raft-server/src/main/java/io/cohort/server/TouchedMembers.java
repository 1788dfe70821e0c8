package io.cohort.server;

import io.cohort.statemachine.CoordinatorEvents;
import java.util.ArrayList;
import java.util.List;

/**
 * The coordinator's observer on this node: forwards every event to the metrics' observer and
 * notes which members an apply touched (a grant, a release asked or timed out, an expiry, a
 * session replaced), so the watch service (R12) looks at just those after a heartbeat, commit,
 * leave or tick rather than at every watch of the group. Apply thread only, under the state lock.
 */
final class TouchedMembers implements CoordinatorEvents {
  /** A member of a group. */
  record Member(String group, String consumerId) {}

  private final CoordinatorEvents delegate;
  private final List<Member> touched = new ArrayList<>();

  TouchedMembers(CoordinatorEvents delegate) {
    this.delegate = delegate;
  }

  CoordinatorEvents delegate() {
    return delegate;
  }

  /** The members touched since the last call; the list is the caller's. */
  List<Member> drain() {
    if (touched.isEmpty()) {
      return List.of();
    }
    List<Member> out = new ArrayList<>(touched);
    touched.clear();
    return out;
  }

  @Override
  public void granted(String group, String topic, int partition, String consumer, long epoch, long handoffMs) {
    touched.add(new Member(group, consumer));
    delegate.granted(group, topic, partition, consumer, epoch, handoffMs);
  }

  @Override
  public void releaseTimedOut(String group, String topic, int partition, String holder, long epoch) {
    touched.add(new Member(group, holder));
    delegate.releaseTimedOut(group, topic, partition, holder, epoch);
  }

  @Override
  public void memberTouched(String group, String consumerId) {
    touched.add(new Member(group, consumerId));
    delegate.memberTouched(group, consumerId);
  }
}
