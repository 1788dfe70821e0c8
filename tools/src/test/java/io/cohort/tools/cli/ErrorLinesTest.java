package io.cohort.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.beust.jcommander.ParameterException;
import io.cohort.client.CohortException;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.CohortUnavailableException;
import io.cohort.statemachine.proto.Code;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** What the operator reads for each kind of failure: one line, the code once, no internals. */
class ErrorLinesTest {
  @Test
  void aRefusalShowsItsCodeOnce() {
    ErrorLines.Failure f = ErrorLines.describe(new CompletionException(
        new CohortRejectedException(Code.INVALID_ARGUMENT, "INVALID_ARGUMENT: session timeout 5 ms is below 1000")), null, 10);
    assertEquals(new ErrorLines.Failure(1, "INVALID_ARGUMENT: session timeout 5 ms is below 1000"), f);
  }

  @Test
  void anUnreachableClusterSaysWhereAndHowLong() {
    ErrorLines.Failure f = ErrorLines.describe(new CohortUnavailableException("query LIST_TOPICS: the cluster did "
        + "not answer in time (RaftRetryFailureException: Failed RaftClientRequest:client-1@group-436F)", null),
        "n1=127.0.0.1:1", 3);
    assertEquals(new ErrorLines.Failure(1, "cluster unreachable at n1=127.0.0.1:1 after 3 s"), f);
  }

  @Test
  void plaintextToATlsPortIsHintedWhenGrpcSaysSoOrAProbeFoundTls() {
    String hint = " (plaintext to a TLS port? --insecure reaches only a cluster started --insecure)";
    CohortUnavailableException closed = new CohortUnavailableException("query LIST_GROUPS: timed out",
        new IOException("UNAVAILABLE: Network closed for unknown reason"));
    assertEquals(new ErrorLines.Failure(1, "cluster unreachable at n1=127.0.0.1:1 after 3 s" + hint),
        ErrorLines.describe(closed, "n1=127.0.0.1:1", 3));

    CohortUnavailableException reset = new CohortUnavailableException("query LIST_GROUPS: timed out",
        new IOException("UNAVAILABLE: io exception", new IOException("Connection reset by peer")));
    assertEquals(new ErrorLines.Failure(1, "cluster unreachable at n1=127.0.0.1:1 after 3 s"),
        ErrorLines.describe(reset, "n1=127.0.0.1:1", 3), "a reset alone says nothing of TLS");
    reset.addSuppressed(new ErrorLines.AnsweredInTls("n1"));
    assertEquals(new ErrorLines.Failure(1, "cluster unreachable at n1=127.0.0.1:1 after 3 s" + hint),
        ErrorLines.describe(new CompletionException(reset), "n1=127.0.0.1:1", 3));
  }

  @Test
  void R11_aTlsFailureAnEarlierAttemptSawIsNamedWhenTheLastOneTimedOut() {
    CohortUnavailableException refusedEarlier = new CohortUnavailableException("query LIST_GROUPS: the cluster did "
        + "not answer in time (IOException: Connection reset by peer)", new IOException("Connection reset by peer"));
    refusedEarlier.addSuppressed(new SSLException("error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED"));
    assertEquals(new ErrorLines.Failure(1, "TLS handshake with the cluster at n1=127.0.0.1:1 failed: the cluster refused "
        + "this certificate: is --tls-cert from this cluster's CA, and not expired?"),
        ErrorLines.describe(new CompletionException(refusedEarlier), "n1=127.0.0.1:1", 3));

    CohortUnavailableException untrustedEarlier = new CohortUnavailableException("query LIST_GROUPS: timed out", null);
    SSLHandshakeException handshake = new SSLHandshakeException("General OpenSslEngine problem");
    handshake.initCause(new CertificateException("PKIX path building failed"));
    untrustedEarlier.addSuppressed(handshake);
    assertEquals(new ErrorLines.Failure(1, "TLS handshake with the cluster at n1=127.0.0.1:1 failed: the cluster's "
        + "certificate is not trusted (PKIX path building failed): is --tls-ca this cluster's CA?"),
        ErrorLines.describe(untrustedEarlier, "n1=127.0.0.1:1", 3));
  }

  @Test
  void internalsAndExtraLinesAreLeftOut() {
    ErrorLines.Failure f = ErrorLines.describe(new CohortException("query failed in the state machine: "
        + "org.apache.ratis.protocol.exceptions.StateMachineException: cannot decode \u0001\u0002 bytes\n"
        + "\tat org.apache.ratis.server.impl.RaftServerImpl.query(RaftServerImpl.java:1)", null), null, 10);
    assertEquals(new ErrorLines.Failure(1, "query failed in the state machine: cannot decode ?? bytes"), f);
    assertEquals(300 + 3, ErrorLines.clean("x".repeat(1000)).length());
  }

  @Test
  void badUsageIsExitTwo() {
    assertEquals(2, ErrorLines.describe(new ParameterException("--timeout must be at least 1"), null, 10).exitCode());
    assertEquals(2, ErrorLines.describe(new IllegalArgumentException("peer 'x' has no id"), null, 10).exitCode());
    assertEquals(new ErrorLines.Failure(1, "disk full"), ErrorLines.describe(new IOException("disk full"), null, 10));
    assertEquals(new ErrorLines.Failure(1, "internal error (NullPointerException): no reason given"),
        ErrorLines.describe(new NullPointerException(), null, 10));
  }
}
