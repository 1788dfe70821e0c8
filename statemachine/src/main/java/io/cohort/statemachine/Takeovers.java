package io.cohort.statemachine;

import com.google.protobuf.ByteString;
import java.util.ArrayList;

/**
 * Static membership (DESIGN §1 "Consumer", R2): a join with a consumer id that has a live session
 * replaces that session at once (its later heartbeats are FENCED), but what the replaced session
 * holds passes to the new one only when the old process can no longer read: its deadline passed,
 * or it sent Leave with its old session. Until then those slots stay with the member under their
 * old epochs ({@link Slot#oldSession}): the old session may still commit them, the new one is not
 * told about them, and the assignor does not move them.
 */
final class Takeovers {
  private Takeovers() {}

  static void start(GroupState group, MemberState member, ByteString token, CoordinatorState state) {
    long nowMs = state.nowMs;
    boolean alreadyPending = member.takeoverPending();
    if (!member.held.isEmpty()) {
      member.oldLeaveEnds = !alreadyPending; // two replaced sessions: only the deadline covers both
      member.oldSession = member.session;
      // A full session from the join at least: the leader may have confirmed the old session off the
      // log (step 11) after the deadline the state has, and that renewal will be skipped (new session).
      member.oldDeadlineMs = Math.max(member.oldDeadlineMs,
          Math.max(member.deadlineMs(), nowMs + group.sessionTimeoutMs));
      for (Slot slot : member.held) {
        slot.oldSession = true;
        if (slot.releaseAskedAtMs == 0) {
          slot.releaseAskedAtMs = nowMs; // the handoff to the new session starts (metrics)
        }
      }
      Timers.schedule(group, Math.min(group.timersAtMs, member.oldDeadlineMs + 1), state);
    }
    member.session = token;
  }

  /**
   * The replaced session can no longer read: its grants pass to the current session with new
   * epochs; those it was asked to release are released.
   */
  static void end(GroupState group, MemberState member, long index, CoordinatorState state) {
    ArrayList<Slot> kept = new ArrayList<>(member.held.size());
    for (Slot slot : member.held) {
      if (!slot.oldSession) {
        kept.add(slot);
      } else if (slot.releasing) {
        group.forgetHolder(slot);
      } else {
        long askedAt = slot.releaseAskedAtMs;
        slot.oldSession = false;
        slot.epoch = index;
        slot.announced = false;
        slot.releaseAskedAtMs = 0;
        kept.add(slot);
        state.events.granted(group.name, slot.topic, slot.info.id, member.consumerId, index,
            askedAt == 0 ? -1 : Math.max(0, state.nowMs - askedAt));
      }
    }
    member.held.clear();
    member.held.addAll(kept);
    member.oldSession = null;
    member.oldDeadlineMs = 0;
    member.oldLeaveEnds = false;
    group.dirty = true;
  }

  /**
   * Stands for a replaced session no command can name (tokens are {@link Stamp#TOKEN_BYTES} bytes):
   * after a second takeover is reverted, only the deadline ends the first one.
   */
  static final ByteString NO_SESSION = ByteString.copyFrom(new byte[] {0});

  /**
   * The new session leaves while the replaced one may still read: the member goes back to the
   * replaced session (which keeps its grants and epochs); what the new session held is released.
   * After a second takeover the grants may be the first replaced session's, which may read until
   * the deadline that covers both: they stay unread by anyone until then (R2), and then pass to
   * the session that came back, as to the newest one.
   */
  static void revert(GroupState group, MemberState member) {
    boolean olderMayRead = !member.oldLeaveEnds;
    ArrayList<Slot> kept = new ArrayList<>(member.held.size());
    for (Slot slot : member.held) {
      if (slot.oldSession) {
        if (!olderMayRead) {
          slot.oldSession = false;
          if (!slot.releasing) {
            slot.releaseAskedAtMs = 0; // the replaced session keeps it: no handoff
          }
        }
        kept.add(slot);
      } else {
        group.forgetHolder(slot);
      }
    }
    member.held.clear();
    member.held.addAll(kept);
    member.session = member.oldSession;
    member.setDeadline(group, member.oldDeadlineMs);
    if (olderMayRead) {
      member.oldSession = NO_SESSION; // still pending, until oldDeadlineMs (the group's timers have it)
    } else {
      member.oldSession = null;
      member.oldDeadlineMs = 0;
    }
    member.oldLeaveEnds = false;
    group.dirty = true;
  }
}
