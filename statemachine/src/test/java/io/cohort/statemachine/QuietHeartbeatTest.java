package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.Renewal;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.Tick;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Step 11's core safety property: a heartbeat the leader answers off the log ({@link
 * Coordinator#quietHeartbeat}) is one whose replicated apply would change nothing but the member's
 * last heartbeat and deadline, and would return exactly the same answer. Random runs (joins,
 * takeovers, honest and dishonest heartbeats, commits, leaves, splits, resets, new terms, ticks
 * with renewals) ask the predicate about many candidate heartbeats after every step and, whenever
 * it answers anything but NEEDS_WRITE, apply the very same heartbeat and compare.
 */
class QuietHeartbeatTest {
  private static final String[] GROUPS = {"g0", "g1"};
  private static final String OUTSIDER = "mallory";

  @Property(tries = 50, seed = "20261130")
  void quietAnswerIsExactlyWhatTheApplyWouldAnswerAndTheApplyChangesOnlyLiveness(@ForAll long seed) {
    Run run = new Run(seed);
    run.go(300);
    assertTrue(run.quietOk >= 10, "seed " + seed + ": only " + run.quietOk + " quiet answers were OK: the run"
        + " does not exercise the property");
    assertTrue(run.needsWrite >= 10, "seed " + seed + ": only " + run.needsWrite + " NEEDS_WRITE answers");
    assertTrue(run.liveNeedsWrite >= 1, "seed " + seed + ": no NEEDS_WRITE answer showed a live session");
    assertTrue(run.quietToldGrants >= 1, "seed " + seed + ": no quiet answer told a new grant");
  }

  /** Replays one seed: {@code -Dquiet.seed=N}. */
  @Test
  void replayOneSeed() {
    Run run = new Run(Long.getLong("quiet.seed", 7L));
    run.go(300);
    assertTrue(run.quietOk > 0);
  }

  // ------------------------------------------------------------------ renewals on the tick

  @Test
  void R7_aRenewalCountsAsAHeartbeatAtItsTimeBeforeTheTicksExpiry() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    ctx.withTopic("t", 2).withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(1_000));
    HeartbeatResult a = ctx.heartbeat("g", "A");
    long joinedAt = ctx.nowMs;
    ctx.nowMs += 900;
    long seen = ctx.nowMs;
    ctx.nowMs += 800; // past the join's deadline, not past the renewal's
    Result r = ctx.apply(Command.newBuilder().setTick(Tick.newBuilder().addRenewals(renewal("g", "A",
        a.getSessionToken(), seen))));
    assertEquals(0, r.getTick().getExpiredCount(), r.toString());
    assertEquals(1, r.getTick().getRenewed());
    var member = ctx.coordinator.state().groups.get("g").members.get("A");
    assertEquals(seen, member.lastHeartbeatMs);
    assertEquals(seen + 1_000, member.deadlineMs());
    assertTrue(joinedAt + 1_000 < ctx.nowMs);
  }

  @Test
  void R7_aRenewalIsNeverLaterThanTheTickNorEarlierThanWhatTheStateHas() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    ctx.withTopic("t", 1).withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(1_000));
    HeartbeatResult a = ctx.heartbeat("g", "A");
    long heard = ctx.nowMs;
    ctx.nowMs += 100;
    ctx.apply(Command.newBuilder().setTick(Tick.newBuilder()
        .addRenewals(renewal("g", "A", a.getSessionToken(), ctx.nowMs + 60_000))));
    var member = ctx.coordinator.state().groups.get("g").members.get("A");
    assertEquals(ctx.nowMs + 1_000, member.deadlineMs(), "a seen time ahead of the tick counts as the tick's");
    ctx.nowMs += 100;
    ctx.apply(Command.newBuilder().setTick(Tick.newBuilder()
        .addRenewals(renewal("g", "A", a.getSessionToken(), heard - 5_000))));
    assertEquals(ctx.nowMs - 100 + 1_000, member.deadlineMs(), "an old renewal moves nothing back");
  }

  @Test
  void R2_aRenewalForAnotherSessionOrAMemberThatIsGoneIsSkipped() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    ctx.withTopic("t", 1).withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(1_000));
    HeartbeatResult a = ctx.heartbeat("g", "A");
    ctx.nowMs += 500;
    long before = ctx.coordinator.state().groups.get("g").members.get("A").deadlineMs();
    Result r = ctx.apply(Command.newBuilder().setTick(Tick.newBuilder()
        .addRenewals(renewal("g", "A", TestStamps.token(999), ctx.nowMs))
        .addRenewals(renewal("g", "B", a.getSessionToken(), ctx.nowMs))
        .addRenewals(renewal("nope", "A", a.getSessionToken(), ctx.nowMs))));
    assertEquals(Code.OK, r.getCode());
    assertEquals(0, r.getTick().getRenewed());
    assertEquals(3, r.getTick().getRenewalsSkipped());
    assertEquals(before, ctx.coordinator.state().groups.get("g").members.get("A").deadlineMs());
  }

  @Test
  void R7_aMemberExpiresOnlyWhenItsDeadlineIsBeforeTheTicksCutoff() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    ctx.withTopic("t", 1).withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(1_000));
    ctx.heartbeat("g", "A");
    long deadline = ctx.coordinator.state().groups.get("g").members.get("A").deadlineMs();
    ctx.nowMs = deadline + 50;
    Result kept = ctx.apply(Command.newBuilder().setTick(Tick.newBuilder().setExpiryCutoffMs(deadline)));
    assertEquals(0, kept.getTick().getExpiredCount(), "renewals answered after the cutoff may be on their way");
    ctx.nowMs += 1;
    Result gone = ctx.apply(Command.newBuilder().setTick(Tick.newBuilder().setExpiryCutoffMs(deadline + 1)));
    assertEquals(List.of("g/A"), gone.getTick().getExpiredList());
  }

  @Test
  void R2_aRenewalCountsTheSessionTheAnswerToldNotTheGroupsLaterOne() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    ctx.withTopic("t", 1).withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(1_000));
    HeartbeatResult a = ctx.heartbeat("g", "A");
    ctx.nowMs += 100;
    long seen = ctx.nowMs;
    ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g").setSessionTimeoutMs(5_000)));
    ctx.apply(Command.newBuilder().setTick(Tick.newBuilder().addRenewals(renewal("g", "A", a.getSessionToken(), seen)
        .toBuilder().setSessionTimeoutMs(1_000))));
    var member = ctx.coordinator.state().groups.get("g").members.get("A");
    assertEquals(seen + 1_000, member.deadlineMs(), "the client was told 1 s");
    ctx.apply(Command.newBuilder().setTick(Tick.newBuilder().addRenewals(renewal("g", "A", a.getSessionToken(), seen))));
    assertEquals(seen + 5_000, member.deadlineMs(), "no session told (a shed heartbeat): the group's");
  }

  @Test
  void R2_aTakeoverLetsTheReplacedSessionReadAFullSessionFromTheJoin() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    ctx.withTopic("t", 1).withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(1_000));
    ctx.heartbeat("g", "A");
    ctx.nowMs += 900; // its state deadline is 100 ms away, but the leader may have confirmed it off the log since
    long joinedAt = ctx.nowMs;
    ctx.apply(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("A")));
    var member = ctx.coordinator.state().groups.get("g").members.get("A");
    assertTrue(member.takeoverPending());
    assertEquals(joinedAt + 1_000, member.oldDeadlineMs);
  }

  @Test
  void R9_aTickWithTooManyRenewalsIsRefusedWhole() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    Tick.Builder t = Tick.newBuilder();
    for (int i = 0; i <= Protocol.MAX_RENEWALS_PER_TICK; i++) {
      t.addRenewals(renewal("g", "c" + i, TestStamps.token(i), 1));
    }
    Result r = ctx.apply(Command.newBuilder().setTick(t));
    assertEquals(Code.LIMIT_EXCEEDED, r.getCode());
  }

  static Renewal renewal(String group, String consumer, ByteString session, long seenAtMs) {
    return Renewal.newBuilder().setGroup(group).setConsumerId(consumer).setSessionToken(session)
        .setSeenAtMs(seenAtMs).build();
  }

  // ------------------------------------------------------------------ the random run

  /** One consumer process as it knows itself: its session and what its last answer told it. */
  private static final class Proc {
    final String group;
    final String id;
    ByteString session = ByteString.EMPTY;
    final Map<String, Grant> grants = new TreeMap<>();
    final List<String> released = new ArrayList<>();

    Proc(String group, String id) {
      this.group = group;
      this.id = id;
    }
  }

  private static final class Run {
    final long seed;
    final Random rnd;
    final Coordinator c = new Coordinator(Limits.DEFAULTS);
    long index;
    long term = 1;
    long nowMs = 1_000_000;
    final List<Proc> procs = new ArrayList<>();
    final Map<String, Integer> partitions = new HashMap<>();
    int quietOk;
    int needsWrite;
    int liveNeedsWrite;
    int quietToldGrants;
    int step;

    Run(long seed) {
      this.seed = seed;
      this.rnd = new Random(seed);
    }

    void go(int steps) {
      admin(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t0").setPartitions(6)).build());
      admin(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t1").setPartitions(3)).build());
      partitions.put("t0", 6);
      partitions.put("t1", 3);
      admin(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g0").addTopics("t0")
          .addTopics("t1").setSessionTimeoutMs(3_000).setStartFrom(StartFrom.BEGIN)).build());
      admin(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g1").addTopics("t0")
          .setOrder(true).setSessionTimeoutMs(2_000).setReleaseTimeoutMs(1_500)).build());
      for (String g : GROUPS) {
        for (int i = 0; i < 4; i++) {
          procs.add(new Proc(g, "c" + i));
        }
      }
      for (step = 0; step < steps; step++) {
        act();
        checkEarliestDeadlines();
        for (int k = 0; k < 4; k++) {
          check();
        }
      }
    }

    Result apply(Command cmd, String principal) {
      index++;
      return c.apply(cmd, index, term, new Stamp(nowMs, principal, TestStamps.token(index)));
    }

    Result admin(Command cmd) {
      return apply(cmd, Principals.INTERNAL);
    }

    void act() {
      nowMs += rnd.nextInt(4) == 0 ? rnd.nextInt(2_500) : rnd.nextInt(200);
      int roll = rnd.nextInt(100);
      Proc p = procs.get(rnd.nextInt(procs.size()));
      if (roll < 45) {
        heartbeat(p, rnd.nextInt(4) == 0);
      } else if (roll < 55) {
        commit(p);
      } else if (roll < 60) {
        leave(p);
      } else if (roll < 63) {
        Proc twin = new Proc(p.group, p.id); // a second process with the id: a takeover
        procs.add(twin);
        heartbeat(twin, false);
      } else if (roll < 80) {
        tick();
      } else if (roll < 84) {
        term++;
        tick();
      } else if (roll < 88) {
        String topic = rnd.nextBoolean() ? "t0" : "t1";
        Result r = admin(Command.newBuilder().setSplitPartition(SplitPartition.newBuilder().setTopic(topic)
            .setPartition(rnd.nextInt(partitions.get(topic)))).build());
        if (r.getCode() == Code.OK) {
          partitions.merge(topic, 2, Integer::sum);
        }
      } else if (roll < 92) {
        admin(Command.newBuilder().setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(GROUPS[rnd.nextInt(2)])
            .setTopic("t0").setPartition(rnd.nextInt(partitions.get("t0"))).setCursor("r" + step)).build());
      } else if (roll < 94) {
        admin(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup(GROUPS[rnd.nextInt(2)])
            .setSessionTimeoutMs(1_000 + rnd.nextInt(4_000))).build());
      } else {
        heartbeat(p, false);
      }
    }

    void tick() {
      Tick.Builder t = Tick.newBuilder();
      for (int i = rnd.nextInt(3); i > 0; i--) {
        Proc p = procs.get(rnd.nextInt(procs.size()));
        ByteString s = rnd.nextInt(4) == 0 ? TestStamps.token(rnd.nextInt(1_000)) : p.session;
        t.addRenewals(renewal(p.group, p.id, s, nowMs - rnd.nextInt(3_000)));
      }
      if (rnd.nextInt(4) == 0) {
        t.setExpiryCutoffMs(nowMs - rnd.nextInt(500));
      }
      Map<MemberState, Boolean> takeoverBefore = new HashMap<>();
      c.state().groups.values().forEach(g -> g.members.values().forEach(m -> takeoverBefore.put(m, m.takeoverPending())));
      admin(Command.newBuilder().setTick(t).build());
      // R7: the tick left nobody whose deadline is before its cutoff, though it may skip whole groups
      long cutoff = t.hasExpiryCutoffMs() ? Math.min(t.getExpiryCutoffMs(), c.state().nowMs) : c.state().nowMs;
      for (GroupState g : c.state().groups.values()) {
        for (MemberState m : g.members.values()) {
          boolean reverted = takeoverBefore.getOrDefault(m, false) && !m.takeoverPending();
          assertTrue(m.deadlineMs() >= cutoff || reverted, "seed " + seed + " step " + step + ": " + g.name + "/"
              + m.consumerId + " outlived its deadline " + m.deadlineMs() + " at the tick's cutoff " + cutoff);
        }
      }
    }

    /** What lets a tick skip a group: no member's deadline is before the group's bound. */
    void checkEarliestDeadlines() {
      for (GroupState g : c.state().groups.values()) {
        for (MemberState m : g.members.values()) {
          assertTrue(g.earliestDeadlineMs <= m.deadlineMs(), "seed " + seed + " step " + step + ": " + g.name
              + "/" + m.consumerId + "'s deadline " + m.deadlineMs() + " is before the group's bound "
              + g.earliestDeadlineMs);
        }
      }
    }

    /** What an honest process would send: its grants minus those it was asked to release. */
    Heartbeat.Builder honest(Proc p) {
      Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(p.group).setConsumerId(p.id).setSessionToken(p.session);
      List<PartitionRef> held = new ArrayList<>();
      for (Grant g : p.grants.values()) {
        if (!p.released.contains(g.getTopic() + "/" + g.getPartition())) {
          held.add(PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()).build());
        }
      }
      Collections.shuffle(held, rnd);
      return hb.addAllHeld(held);
    }

    void heartbeat(Proc p, boolean withCommit) {
      Heartbeat.Builder hb = honest(p);
      if (withCommit && !p.grants.isEmpty()) {
        Grant g = p.grants.values().iterator().next();
        hb.addCommits(CheckpointEntry.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition())
            .setEpoch(g.getEpoch()).setCursor("k" + step).setFinished(g.getState() == PartitionState.SEALED
                && rnd.nextBoolean()));
      }
      observe(p, apply(Command.newBuilder().setHeartbeat(hb).build(), Principals.INTERNAL));
    }

    void observe(Proc p, Result r) {
      switch (r.getCode()) {
        case OK -> {
          HeartbeatResult h = r.getHeartbeat();
          p.session = h.getSessionToken();
          p.grants.clear();
          p.released.clear();
          for (Grant g : h.getGrantsList()) {
            p.grants.put(g.getTopic() + "/" + g.getPartition(), g);
          }
          for (PartitionRef ref : h.getReleaseList()) {
            p.released.add(ref.getTopic() + "/" + ref.getPartition());
          }
        }
        case UNKNOWN_MEMBER, FENCED, NOT_FOUND -> {
          p.session = ByteString.EMPTY;
          p.grants.clear();
          p.released.clear();
        }
        default -> { }
      }
    }

    void commit(Proc p) {
      if (p.grants.isEmpty()) {
        return;
      }
      Grant g = p.grants.values().iterator().next();
      apply(Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup(p.group)
          .setConsumerId(p.id).setSessionToken(p.session).addEntries(CheckpointEntry.newBuilder()
              .setTopic(g.getTopic()).setPartition(g.getPartition()).setEpoch(g.getEpoch()).setCursor("m" + step)))
          .build(), Principals.INTERNAL);
    }

    void leave(Proc p) {
      apply(Command.newBuilder().setLeave(Leave.newBuilder().setGroup(p.group).setConsumerId(p.id)
          .setSessionToken(p.session)).build(), Principals.INTERNAL);
      p.session = ByteString.EMPTY;
      p.grants.clear();
      p.released.clear();
    }

    /** A candidate: mostly an honest process's next heartbeat, else one changed in some way. */
    Heartbeat candidate(Proc p) {
      Heartbeat.Builder hb = honest(p);
      switch (rnd.nextInt(14)) {
        case 0 -> hb.setSessionToken(TestStamps.token(rnd.nextInt(5_000)));
        case 1 -> hb.setSessionToken(ByteString.EMPTY);
        case 2 -> {
          if (hb.getHeldCount() > 0) {
            hb.removeHeld(rnd.nextInt(hb.getHeldCount()));
          }
        }
        case 3 -> hb.addHeld(PartitionRef.newBuilder().setTopic(rnd.nextBoolean() ? "t0" : "t1")
            .setPartition(rnd.nextInt(12)));
        case 4 -> {
          if (hb.getHeldCount() > 0) {
            hb.addHeld(hb.getHeld(0));
          }
        }
        case 5 -> hb.addCommits(CheckpointEntry.newBuilder().setTopic("t0").setPartition(0).setEpoch(1).setCursor("x"));
        case 6 -> hb.setConsumerId("c" + (4 + rnd.nextInt(2)));
        case 7 -> hb.setGroup("g" + rnd.nextInt(3));
        case 8 -> { // every grant it knows, even those it was asked to release
          hb.clearHeld();
          p.grants.values().forEach(g -> hb.addHeld(PartitionRef.newBuilder().setTopic(g.getTopic())
              .setPartition(g.getPartition())));
        }
        default -> { }
      }
      return hb.build();
    }

    void check() {
      Proc p = procs.get(rnd.nextInt(procs.size()));
      Heartbeat hb = candidate(p);
      String principal = rnd.nextInt(12) == 0 ? OUTSIDER : Principals.INTERNAL;
      List<StateRecord> before = CoordinatorTestContext.records(c);
      long at = c.nowMs() + (rnd.nextInt(3) == 0 ? rnd.nextInt(3_000) : 0);
      Result quiet = c.quietHeartbeat(hb, principal, at);
      String where = "seed " + seed + " step " + step + " " + hb + " as " + principal + " at " + at;
      assertEquals(before, CoordinatorTestContext.records(c), where + ": the predicate changed the state");
      if (quiet.getCode() == Code.NEEDS_WRITE) {
        needsWrite++;
        // the leader then asks whether the heartbeat still shows a live session (a renewal, no answer)
        boolean live = c.sessionLive(hb, at);
        assertEquals(before, CoordinatorTestContext.records(c), where + ": sessionLive changed the state");
        if (live) {
          liveNeedsWrite++;
          // the same heartbeat through the log, now, would find its session (no refusal, no rejoin)
          index++;
          Result applied = c.apply(Command.newBuilder().setHeartbeat(hb).build(), index, c.appliedTerm(),
              new Stamp(c.nowMs(), principal, TestStamps.token(index)));
          assertTrue(applied.getCode() != Code.UNKNOWN_MEMBER && applied.getCode() != Code.FENCED
              && applied.getCode() != Code.NOT_FOUND, where + ": live, but the log refused its session: " + applied);
          if (applied.getCode() == Code.OK) {
            observe(p, applied);
          }
        }
        return;
      }
      // The same heartbeat through the log, at the state's own time and term: nothing else moves.
      index++;
      Result applied = c.apply(Command.newBuilder().setHeartbeat(hb).build(), index, c.appliedTerm(),
          new Stamp(c.nowMs(), principal, TestStamps.token(index)));
      assertEquals(applied, quiet, where + ": the quiet answer differs from the apply's");
      if (quiet.getCode() == Code.OK) {
        quietOk++;
        assertTrue(quiet.getHeartbeat().getGrantsCount() >= hb.getHeldCount(), where);
        if (quiet.getHeartbeat().getGrantsCount() > hb.getHeldCount()) {
          quietToldGrants++; // a grant not yet told, told off the log
        }
      }
      String member = quiet.getCode() == Code.OK ? hb.getGroup() + "/" + hb.getConsumerId() : null;
      assertEquals(normalised(before, member), normalised(CoordinatorTestContext.records(c), member),
          where + ": the apply changed more than the member's liveness");
      if (quiet.getCode() == Code.OK) {
        observe(p, applied);
      }
    }

    /**
     * The records without the applied position, and without {@code member}'s last heartbeat and
     * deadline and whether its grants are marked told.
     */
    static List<StateRecord> normalised(List<StateRecord> records, String member) {
      List<StateRecord> out = new ArrayList<>(records.size());
      for (StateRecord r : records) {
        if (r.hasHeader()) {
          out.add(r.toBuilder().setHeader(r.getHeader().toBuilder().clearAppliedIndex().clearAppliedTerm()).build());
        } else if (r.hasMember() && (r.getMember().getGroup() + "/" + r.getMember().getConsumerId()).equals(member)) {
          out.add(r.toBuilder().setMember(r.getMember().toBuilder().clearLastHeartbeatMs().clearDeadlineMs()).build());
        } else if (r.hasSlot() && (r.getSlot().getGroup() + "/" + r.getSlot().getHolder()).equals(member)) {
          out.add(r.toBuilder().setSlot(r.getSlot().toBuilder().clearAnnounced()).build());
        } else {
          out.add(r);
        }
      }
      return out;
    }
  }
}
