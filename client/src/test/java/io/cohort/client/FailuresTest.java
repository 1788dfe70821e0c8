package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import java.util.concurrent.CompletionException;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void undecodableCommandIsRejectedWithInvalidArgument() {
    StateMachineException sme = new StateMachineException(
        "java.lang.IllegalArgumentException from Server n1@group-X: INVALID_ARGUMENT: not a Cohort command");
    CohortException e = Failures.map(new CompletionException(sme), "command");
    CohortRejectedException r = assertInstanceOf(CohortRejectedException.class, e);
    assertEquals(Code.INVALID_ARGUMENT, r.code());
    assertTrue(r.getMessage().endsWith("not a Cohort command"), r.getMessage());
    assertFalse(r.isRetriable());
  }

  @Test
  void R9_aCommandTheLeaderRefusesAsTooLargeIsAFinalLimitExceeded() {
    StateMachineException sme = new StateMachineException(
        "java.lang.IllegalArgumentException from Server n1@group-X: LIMIT_EXCEEDED: a command is at most 1048576 bytes");
    CohortRejectedException r = assertInstanceOf(CohortRejectedException.class, Failures.map(sme, "heartbeat"));
    assertEquals(Code.LIMIT_EXCEEDED, r.code());
    assertFalse(r.isRetriable(), "never sent again as it was");
    assertFalse(Failures.poisonsWindow(sme), "a refusal leaves the Ratis client usable");
  }

  @Test
  void causeMessageStartingWithTheCodeIsFound() {
    StateMachineException sme = new StateMachineException("wrapped",
        new IllegalArgumentException("INVALID_ARGUMENT: bad bytes"));
    assertEquals(Code.INVALID_ARGUMENT, ((CohortRejectedException) Failures.map(sme, "x")).code());
  }

  @Test
  void timeoutsAndGivenUpRetriesAreRetriableUnavailability() {
    assertInstanceOf(CohortUnavailableException.class,
        Failures.map(new CompletionException(new TimeoutIOException("slow")), "x"));
    CohortException e = Failures.map(new RaftRetryFailureException(null, 3, null, null), "x");
    assertInstanceOf(CohortUnavailableException.class, e);
    assertTrue(e.isRetriable());
  }

  @Test
  void closedClientIsNotRetriable() {
    CohortException e = Failures.map(new AlreadyClosedException("closed"), "x");
    assertInstanceOf(CohortClosedException.class, e);
    assertFalse(e.isRetriable());
  }

  @Test
  void shedding_theRetryAfterComesFromTheLeadersMessage() {
    org.apache.ratis.protocol.exceptions.StateMachineException sme =
        new org.apache.ratis.protocol.exceptions.StateMachineException(
            "io.cohort.server.CommandAdmission$Refused: RETRY_LATER: retry after 450 ms: the leader has 2000 writes");
    CohortException e = Failures.map(sme, "heartbeat");
    CohortRejectedException rej = org.junit.jupiter.api.Assertions.assertInstanceOf(CohortRejectedException.class, e);
    org.junit.jupiter.api.Assertions.assertEquals(io.cohort.statemachine.proto.Code.RETRY_LATER, rej.code());
    org.junit.jupiter.api.Assertions.assertEquals(450, rej.retryAfterMs(500));
    org.junit.jupiter.api.Assertions.assertEquals(500,
        new CohortRejectedException(io.cohort.statemachine.proto.Code.RETRY_LATER, "busy").retryAfterMs(500),
        "no figure: the fallback");
  }

  /** Answers and timeouts carry no stack trace (a shed storm makes thousands a second); the cause keeps its own. */
  @Test
  void refusalsAndUnavailabilityCostNoStackTrace() {
    CohortException shed = Failures.map(new StateMachineException("RETRY_LATER: retry after 450 ms: busy"), "x");
    assertInstanceOf(CohortRejectedException.class, shed);
    assertEquals(0, shed.getStackTrace().length);
    TimeoutIOException slow = new TimeoutIOException("slow");
    CohortException timedOut = Failures.map(new CompletionException(slow), "x");
    assertInstanceOf(CohortUnavailableException.class, timedOut);
    assertEquals(0, timedOut.getStackTrace().length);
    assertTrue(slow.getStackTrace().length > 0, "the transport's trace is kept in the cause");
    assertTrue(new CohortClosedException("closed", null).getStackTrace().length > 0, "a caller's mistake keeps its trace");
  }
}
