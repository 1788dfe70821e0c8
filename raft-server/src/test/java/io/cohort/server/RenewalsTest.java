package io.cohort.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Renewal;
import io.cohort.statemachine.proto.Tick;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leader's in-memory renewals (step 11) and the ticks they are drained into. */
class RenewalsTest {
  private static final ByteString S1 = ByteString.copyFromUtf8("session-one-1234");
  private static final ByteString S2 = ByteString.copyFromUtf8("session-two-1234");

  @Test
  void R7_aTickCarriesTheLatestRenewalPerMemberAndCutsExpiryAtItsDrainTime() {
    Renewals r = new Renewals();
    r.record("g", "a", S1, 100, 0);
    r.record("g", "b", S1, 110, 0);
    r.record("g", "a", S1, 90, 0); // older: kept 100
    Tick t = r.drain(() -> 200, 10, 10_000);
    assertEquals(List.of("a@100", "b@110"), names(t));
    assertEquals(200, t.getExpiryCutoffMs());
    assertTrue(r.isEmpty());
  }

  @Test
  void R7_renewalsLeftForTheNextTickHoldItsExpiryCutoffBackToTheOldestOfThem() {
    Renewals r = new Renewals();
    for (int i = 0; i < 5; i++) {
      r.record("g", "c" + i, S1, 100 + i, 0);
    }
    Tick first = r.drain(() -> 500, 2, 10_000);
    assertEquals(List.of("c0@100", "c1@101"), names(first));
    assertEquals(102, first.getExpiryCutoffMs(), "c2 was answered at 102 and waits: nobody expires after it");
    Tick bytes = r.drain(() -> 500, 100, first.getRenewals(0).getSerializedSize() + 4);
    assertEquals(1, bytes.getRenewalsCount(), "the byte budget splits too");
    Tick rest = r.drain(() -> 600, 100, 10_000);
    assertEquals(List.of("c3@103", "c4@104"), names(rest));
    assertEquals(600, rest.getExpiryCutoffMs());
  }

  @Test
  void R7_aMemberHeardAgainWhileLeftBehindHoldsTheCutoffAtWhenItWasFirstHeard() {
    Renewals r = new Renewals();
    r.record("g", "a", S1, 100, 0);
    r.record("g", "b", S1, 150, 0);
    r.record("g", "b", S1, 900, 0); // b heard again: its latest renewal, but alive since 150
    Tick first = r.drain(() -> 1_000, 1, 10_000);
    assertEquals(List.of("a@100"), names(first));
    assertEquals(150, first.getExpiryCutoffMs(), "b was alive at 150: a tick leaving it behind cuts there, not at 900");
    Tick next = r.drain(() -> 1_100, 10, 10_000);
    assertEquals(List.of("b@900"), names(next));
    assertEquals(1_100, next.getExpiryCutoffMs());
  }

  @Test
  void R2_aTickThatWasNotAppliedGivesItsRenewalsBackWithoutUndoingNewerOnes() {
    Renewals r = new Renewals();
    r.record("g", "a", S1, 100, 0);
    r.record("g", "b", S1, 100, 0);
    Tick lost = r.drain(() -> 150, 10, 10_000);
    r.record("g", "a", S1, 160, 0); // answered while the tick was out
    r.restore(lost);
    assertEquals(List.of("a@160", "b@100"), names(r.drain(() -> 200, 10, 10_000)));
  }

  @Test
  void R2_aNewSessionReplacesTheOldOnesRenewalAndLeadershipLossClearsAll() {
    Renewals r = new Renewals();
    r.record("g", "a", S1, 100, 0);
    r.record("g", "a", S2, 90, 0);
    Tick t = r.drain(() -> 200, 10, 10_000);
    assertEquals(S2, t.getRenewals(0).getSessionToken());
    r.record("g", "b", S1, 100, 0);
    r.clear();
    assertTrue(r.isEmpty());
    assertEquals(0, r.drain(() -> 300, 10, 10_000).getRenewalsCount());
  }

  @Test
  void R7_membersHeardEveryIntervalAreDrainedInTurnWhenTicksFallBehind_noneStarves() {
    Renewals r = new Renewals();
    java.util.Set<String> drained = new java.util.TreeSet<>();
    for (int round = 0; round < 3; round++) {
      for (String m : List.of("a", "b", "c")) {
        r.record("g", m, S1, 100 + round, 0); // each heard again before the next tick
      }
      r.drain(() -> 200, 1, 10_000).getRenewalsList().forEach(x -> drained.add(x.getConsumerId()));
    }
    assertEquals(java.util.Set.of("a", "b", "c"), drained, "one per tick, three ticks: each member once");
  }

  private static List<String> names(Tick t) {
    return t.getRenewalsList().stream().map((Renewal x) -> x.getConsumerId() + "@" + x.getSeenAtMs()).sorted().toList();
  }
}
