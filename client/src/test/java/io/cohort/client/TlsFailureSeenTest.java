package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;

/**
 * R11: a refused certificate can show as a reset connection on the attempt Ratis gives up on; the
 * call's failure still carries the TLS failure an earlier attempt saw.
 */
class TlsFailureSeenTest {
  private static final long SECOND = 1_000_000_000L;
  private final SSLException alert = new SSLException("error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED");

  @Test
  void everyFailedAttemptIsShownToTheObserverAndThePolicyStillDecides() {
    List<Throwable> seen = new ArrayList<>();
    RetryPolicy inner = RetryPolicies.retryUpToMaximumCountWithFixedSleep(2, TimeDuration.ONE_SECOND);
    RetryPolicy observed = RatisChannel.observing(inner, seen::add);
    IOException first = new IOException("io exception", alert);
    IOException second = new IOException("Connection reset by peer");
    assertTrue(observed.handleAttemptFailure(event(1, first)).shouldRetry());
    assertFalse(observed.handleAttemptFailure(event(2, second)).shouldRetry());
    assertEquals(List.of(first, second), seen);
    assertEquals(inner.toString(), observed.toString(), "Ratis prints the policy in its failure message");
  }

  @Test
  void anUnavailableCallWithoutTlsInItsCauseGetsTheRecentTlsFailure() {
    CohortException timedOut = new CohortUnavailableException("query: the cluster did not answer in time",
        new IOException("Connection reset by peer"));
    RatisChannel.TlsFailure recent = new RatisChannel.TlsFailure(10 * SECOND, alert);
    assertSame(timedOut, RatisChannel.withTlsFailure(timedOut, recent, 12 * SECOND, 3 * SECOND));
    assertArrayEquals(new Throwable[] {alert}, timedOut.getSuppressed());
  }

  @Test
  void anOldTlsFailureARefusalOrACauseThatNamesTlsItselfGetNothing() {
    CohortException later = new CohortUnavailableException("query: the cluster did not answer in time", null);
    RatisChannel.withTlsFailure(later, new RatisChannel.TlsFailure(1 * SECOND, alert), 12 * SECOND, 3 * SECOND);
    assertEquals(0, later.getSuppressed().length, "seen before this call could have started");

    CohortException refused = new CohortRejectedException(Code.PERMISSION_DENIED, "no");
    RatisChannel.withTlsFailure(refused, new RatisChannel.TlsFailure(11 * SECOND, alert), 12 * SECOND, 3 * SECOND);
    assertEquals(0, refused.getSuppressed().length, "the cluster answered");

    CohortException own = new CohortUnavailableException("query", new IOException(new SSLHandshakeException("bad")));
    RatisChannel.withTlsFailure(own, new RatisChannel.TlsFailure(11 * SECOND, alert), 12 * SECOND, 3 * SECOND);
    assertEquals(0, own.getSuppressed().length, "its own cause already names the TLS failure");
  }

  private static RetryPolicy.Event event(int attempt, Throwable cause) {
    return new RetryPolicy.Event() {
      @Override
      public int getAttemptCount() {
        return attempt;
      }

      @Override
      public Throwable getCause() {
        return cause;
      }
    };
  }
}
