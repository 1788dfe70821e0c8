package io.cohort.client;

import io.cohort.statemachine.proto.Code;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.protocol.exceptions.StateMachineException;

/** Maps what Ratis throws to the client's typed exceptions: the one place that does. */
final class Failures {
  private Failures() {}

  static CohortException map(Throwable t, String what) {
    return map(t, what, true);
  }

  /**
   * @param clientClosed whether our client was closed: Ratis also reports a call failed by an
   *     earlier failure in its window as AlreadyClosedException, which is then retriable
   */
  static CohortException map(Throwable t, String what, boolean clientClosed) {
    Throwable e = unwrap(t);
    if (e instanceof CohortException ce) {
      return ce;
    }
    PermissionDeniedIOException denied = find(e, PermissionDeniedIOException.class);
    if (denied != null) {
      return new CohortRejectedException(Code.PERMISSION_DENIED, denied.getMessage());
    }
    if (e instanceof StateMachineException sme) {
      CohortRejectedException rejected = rejectionIn(sme);
      if (rejected != null) {
        return rejected;
      }
      return new CohortException(what + " failed in the state machine: " + sme.getMessage(), sme);
    }
    if (e instanceof AlreadyClosedException) {
      if (!clientClosed) {
        return new CohortUnavailableException(what + ": an earlier call failed for good ("
            + e.getMessage() + ")", e);
      }
      return new CohortClosedException(what + ": the client is closed", e);
    }
    if (e instanceof GroupMismatchException) {
      return new CohortException(what + ": the peers do not serve Cohort's Raft group ("
          + e.getMessage() + ")", e);
    }
    if (e instanceof IOException || e instanceof CancellationException) {
      return new CohortUnavailableException(what + ": the cluster did not answer in time ("
          + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
    }
    return new CohortException(what + " failed: " + e, e);
  }

  /** The leader refuses a command it cannot decode with a cause message "CODE: text". */
  static CohortRejectedException rejectionIn(Throwable sme) {
    for (Throwable c = sme; c != null; c = c.getCause()) {
      String m = c.getMessage();
      if (m == null) {
        continue;
      }
      for (Code code : Code.values()) {
        if (code == Code.UNRECOGNIZED || code == Code.CODE_UNSPECIFIED || code == Code.OK) {
          continue;
        }
        String prefix = code.name() + ":";
        int at = m.startsWith(prefix) ? 0 : m.indexOf(": " + prefix);
        if (at >= 0) {
          int start = at == 0 && m.startsWith(prefix) ? prefix.length() : at + 2 + prefix.length();
          return new CohortRejectedException(code, m.substring(start).trim());
        }
      }
    }
    return null;
  }

  /**
   * True when Ratis gave up on the call itself (retries exhausted, or failed because an earlier
   * call had), which leaves its ordered async window failed for every later call. Exceptions a
   * server put in its reply (e.g. no leader known for a ReadIndex) do not.
   */
  static boolean poisonsWindow(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof CohortException && e.getCause() != null) {
      e = unwrap(e.getCause());
    }
    return e instanceof RaftRetryFailureException || e instanceof AlreadyClosedException
        || e instanceof TimeoutIOException;
  }

  /** The first cause of that type in the chain, or null. */
  static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    return null;
  }

  static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
