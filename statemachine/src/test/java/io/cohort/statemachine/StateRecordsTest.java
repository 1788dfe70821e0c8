package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.StateRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exported record stream is the snapshot's content: versioned, complete and ordered. */
class StateRecordsTest {

  private static CoordinatorTestContext busyState() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("a", 4).withTopic("b", 2)
        .withGroup("g", "a", "b").withOrderedGroup("h", "a").withMember("g", "A").withMember("g", "B")
        .withMember("h", "C").withGroup("empty", "b");
    ctx.commit("g", "A", "a", 0, "17");
    ctx.reportError("g", "A", "a", 0, "boom", false); // a reader error kept with its slot
    CoordinatorTestContext.ok(ctx.split("a", 1));
    ctx.heartbeat("g", "C"); // a handoff in flight: targets, releasing flags and deadlines in the export
    ctx.restart("h", "C"); // a takeover pending: the replaced session and its slots in the export
    return ctx;
  }

  @Test
  void rebuildFromExportGivesTheSameRecordsAndDigest() {
    CoordinatorTestContext ctx = busyState();
    Coordinator rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(ctx.coordinator).iterator(), Limits.DEFAULTS);
    assertArrayEquals(ctx.exportBytes(), CoordinatorTestContext.exportBytes(rebuilt));
    assertEquals(ctx.coordinator.digest(), rebuilt.digest());
    assertEquals(ctx.coordinator.appliedIndex(), rebuilt.appliedIndex());
  }

  @Test
  void theStreamStartsWithAVersionedHeader() {
    List<StateRecord> records = CoordinatorTestContext.records(busyState().coordinator);
    assertEquals(FrozenState.FORMAT_VERSION, records.get(0).getHeader().getFormatVersion());
    assertTrue(records.stream().anyMatch(StateRecord::hasSlot));
    assertTrue(records.stream().anyMatch(r -> r.hasSlot() && r.getSlot().getReleasing()));
  }

  @Test
  void theNewStateIsInTheExport() {
    List<StateRecord> records = CoordinatorTestContext.records(busyState().coordinator);
    assertTrue(records.stream().anyMatch(r -> r.hasSlot() && r.getSlot().getReleaseDeadlineMs() > 0));
    assertTrue(records.stream().anyMatch(r -> r.hasSlot() && r.getSlot().getHeldByReplacedSession()));
    assertTrue(records.stream().anyMatch(r -> r.hasMember() && !r.getMember().getReplacedSessionToken().isEmpty()));
    assertTrue(records.get(0).getHeader().getTermStartMs() > 0);
    assertTrue(records.stream().anyMatch(r -> r.hasSlot() && r.getSlot().getLastError().getMessage().equals("boom")));
    assertTrue(records.stream().anyMatch(r -> r.hasSlot() && r.getSlot().getReleaseAskedAtMs() > 0));
    assertTrue(records.stream().anyMatch(r -> r.hasGroup() && r.getGroup().getGroup().equals("empty")
        && r.getGroup().hasEmptySinceMs() && r.getGroup().getRetentionMs() == Groups.DEFAULT_RETENTION_MS));
    assertTrue(records.stream().anyMatch(r -> r.hasGroup() && r.getGroup().getGroup().equals("g")
        && !r.getGroup().hasEmptySinceMs()), "a group with members is not counting down");
  }

  @Test
  void R7_aFormatThreeStreamKeepsItsGroupsUntilTheyEmptyAgain() {
    List<StateRecord> records = new java.util.ArrayList<>();
    for (StateRecord r : CoordinatorTestContext.records(busyState().coordinator)) {
      if (r.hasHeader()) {
        r = r.toBuilder().setHeader(r.getHeader().toBuilder().setFormatVersion(3)).build();
      } else if (r.hasGroup()) {
        r = r.toBuilder().setGroup(r.getGroup().toBuilder().clearRetentionMs().clearEmptySinceMs()).build();
      }
      records.add(r);
    }
    Coordinator rebuilt = Coordinator.rebuild(records.iterator(), Limits.DEFAULTS);
    assertEquals(Long.MIN_VALUE, rebuilt.tickWantedAtMs(), "members: ticks are wanted anyway");
    GroupState empty = rebuilt.state().groups.get("empty");
    assertEquals(Groups.DEFAULT_RETENTION_MS, empty.retentionMs);
    assertEquals(-1, empty.emptySinceMs, "when it emptied is unknown: not counting (the same on every replica)");
  }

  @Test
  @SuppressWarnings("deprecation")
  void aFormatTwoStreamIsStillRead() {
    CoordinatorTestContext ctx = busyState();
    List<StateRecord> records = new java.util.ArrayList<>();
    for (StateRecord r : CoordinatorTestContext.records(ctx.coordinator)) {
      if (r.hasHeader()) {
        r = r.toBuilder().setHeader(r.getHeader().toBuilder().setFormatVersion(2).clearTermStartMs()).build();
      } else if (r.hasSlot()) {
        r = r.toBuilder().setSlot(r.getSlot().toBuilder().clearReleaseDeadlineMs()).build();
      } else if (r.hasMember()) {
        r = r.toBuilder().setMember(r.getMember().toBuilder().clearSessionToken().clearReplacedSessionToken()
            .clearOwner().setLegacySession(3)).build();
      }
      records.add(r);
    }
    Coordinator rebuilt = Coordinator.rebuild(records.iterator(), Limits.DEFAULTS);
    // Release timers restart at the snapshot's time: at least a session timeout from then.
    long nowMs = records.get(0).getHeader().getNowMs();
    for (StateRecord r : CoordinatorTestContext.records(rebuilt)) {
      if (r.hasSlot() && r.getSlot().getReleasing()) {
        assertTrue(r.getSlot().getReleaseDeadlineMs() >= nowMs + 10_000, r.toString());
      }
    }
  }

  /** Formats 1-3 kept sessions as log indexes: they are read as 8-byte tokens, with no owner and no ACL. */
  @Test
  @SuppressWarnings("deprecation")
  void aFormatThreeStreamIsStillReadWithItsIndexSessions() {
    List<StateRecord> records = new java.util.ArrayList<>();
    for (StateRecord r : CoordinatorTestContext.records(busyState().coordinator)) {
      if (r.hasHeader()) {
        r = r.toBuilder().setHeader(r.getHeader().toBuilder().setFormatVersion(3).clearAccessBootstrapped()).build();
      } else if (r.hasMember()) {
        var m = r.getMember().toBuilder().clearSessionToken().clearReplacedSessionToken().clearOwner()
            .setLegacySession(41);
        if (!r.getMember().getReplacedSessionToken().isEmpty()) {
          m.setLegacyReplacedSession(7);
        }
        r = r.toBuilder().setMember(m).build();
      } else if (r.hasAccess()) {
        continue;
      }
      records.add(r);
    }
    Coordinator rebuilt = Coordinator.rebuild(records.iterator(), Limits.DEFAULTS);
    List<StateRecord> out = CoordinatorTestContext.records(rebuilt);
    assertEquals(FrozenState.FORMAT_VERSION, out.get(0).getHeader().getFormatVersion(), "written in the new format");
    com.google.protobuf.ByteString legacy41 = com.google.protobuf.ByteString.copyFrom(new byte[] {0, 0, 0, 0, 0, 0, 0, 41});
    assertTrue(out.stream().filter(StateRecord::hasMember).allMatch(r -> r.getMember().getSessionToken().equals(legacy41)));
    assertTrue(out.stream().anyMatch(r -> r.hasMember() && r.getMember().getReplacedSessionToken()
        .equals(com.google.protobuf.ByteString.copyFrom(new byte[] {0, 0, 0, 0, 0, 0, 0, 7}))));
    assertTrue(out.stream().noneMatch(StateRecord::hasAccess));
  }

  @Test
  void anUnknownVersionOrAMissingHeaderIsRefused() {
    List<StateRecord> records = CoordinatorTestContext.records(busyState().coordinator);
    StateRecord future = records.get(0).toBuilder()
        .setHeader(records.get(0).getHeader().toBuilder().setFormatVersion(99)).build();
    var e = assertThrows(IllegalArgumentException.class, () -> Coordinator.rebuild(
        List.of(future).iterator(), Limits.DEFAULTS));
    assertTrue(e.getMessage().contains("unknown state format version 99"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Coordinator.rebuild(records.subList(1, records.size()).iterator(), Limits.DEFAULTS));
  }

  @Test
  void aFrozenCopyIsNotChangedByLaterApplies() {
    CoordinatorTestContext ctx = busyState();
    byte[] before = ctx.exportBytes();
    FrozenState frozen = ctx.coordinator.freeze();
    ctx.commit("g", "A", "a", 0, "18");
    ctx.heartbeat("g", "A");
    CoordinatorTestContext.ok(ctx.split("a", 0)); // partitions change too: sealed, children, new ids
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    frozen.export(r -> {
      try {
        r.writeDelimitedTo(out);
      } catch (java.io.IOException ex) {
        throw new java.io.UncheckedIOException(ex);
      }
    });
    assertArrayEquals(before, out.toByteArray());
  }
}
