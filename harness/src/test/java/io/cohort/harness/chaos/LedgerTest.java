package io.cohort.harness.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.PartitionId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the chaos ledger makes of reader starts and records read twice. */
class LedgerTest {
  private static final PartitionId P = new PartitionId("plain", 0);

  @Test
  void aReaderStartingBelowAnAcknowledgedCursorIsNoted() {
    Ledger ledger = new Ledger();
    ledger.assigned("a", P, 1, null);
    ledger.committed(P, "40");
    ledger.revoked("a", P, "RELEASED");
    ledger.assigned("b", P, 2, "40"); // where a's final commit left it: fine
    ledger.revoked("b", P, "SESSION_LOST");
    ledger.assigned("c", P, 3, "39"); // one acknowledged record again
    ledger.assigned("d", new PartitionId("plain", 1), 1, null); // nothing acknowledged there yet
    assertEquals(List.of("c started plain/0 (epoch 3) at 39, below the acknowledged cursor 40"),
        ledger.startsBelowAcked());
    assertEquals(4, ledger.startsChecked());
  }

  @Test
  void aStartAtThePartitionsBeginningAfterAnAcknowledgementIsNoted() {
    Ledger ledger = new Ledger();
    ledger.committed(P, "1");
    ledger.assigned("a", P, 1, null);
    assertEquals(1, ledger.startsBelowAcked().size(), ledger.startsBelowAcked().toString());
  }

  @Test
  void recordsReadAgainArePutDownToHowTheHoldBeforeEnded() {
    Ledger ledger = new Ledger();
    ledger.assigned("a", P, 1, null);
    ledger.processed(P, List.of(0L, 1L, 2L, 3L));
    ledger.revoked("a", P, "SESSION_AT_RISK");
    ledger.assigned("a", P, 1, "4"); // the same grant resumed where it was
    ledger.processed(P, List.of(4L, 5L));
    ledger.revoked("a", P, "SESSION_LOST");
    ledger.assigned("b", P, 2, "2");
    ledger.processed(P, List.of(2L, 3L, 4L, 5L, 6L));
    assertEquals(Map.of("SESSION_LOST", 4L), ledger.againAfter());
    assertEquals(11, ledger.reads().get(P).records);
    assertTrue(ledger.reads().get(P).duplicates == 4);
  }
}
