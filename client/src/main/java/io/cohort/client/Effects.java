package io.cohort.client;

import io.cohort.client.ConsumerState.Action;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out what {@link ConsumerState} decided: starts and stops readers, tells the listener,
 * settles commit futures. On the consumer's loop thread.
 */
final class Effects {
  private static final Logger LOG = LoggerFactory.getLogger(Effects.class);

  /** What the loop decides about the actions that touch the consumer as a whole. */
  interface Host {
    /** True once the consumer winds down: no reader starts any more. */
    boolean windingDown();

    /** Another process took this consumer id over. */
    void fenced();
  }

  private final String logPrefix;
  private final ConsumerState state;
  private final Readers<?> readers;
  private final ConsumerListener listener;
  private final Host host;

  Effects(String logPrefix, ConsumerState state, Readers<?> readers, ConsumerListener listener, Host host) {
    this.logPrefix = logPrefix;
    this.state = state;
    this.readers = readers;
    this.listener = listener;
    this.host = host;
  }

  void apply(List<Action> actions) {
    for (Action a : actions) {
      try {
        applyOne(a);
      } catch (RuntimeException e) {
        LOG.error("{} applying {} failed", logPrefix, a, e);
      }
    }
  }

  private void applyOne(Action a) {
    if (a instanceof Action.Start s) {
      PartitionGrant g = s.grant();
      if (host.windingDown()) {
        state.readerStopped(g.id(), g.epoch()); // never started
        return;
      }
      LOG.info("{} reading {} epoch {} from {}", logPrefix, g.id(), g.epoch(),
          s.cursor() != null ? "'" + s.cursor() + "'" : g.startFrom());
      readers.start(g, s.cursor());
    } else if (a instanceof Action.Stop s) {
      readers.stop(s.grant(), s.reason());
    } else if (a instanceof Action.Refresh r) {
      readers.refresh(r.grant());
    } else if (a instanceof Action.Acked ack) {
      safe(() -> listener.onCommitted(ack.id(), ack.entry().getEpoch(), ack.entry().getCursor(),
          ack.entry().getFinished()));
    } else if (a instanceof Action.Refused ref) {
      LOG.warn("{} checkpoint {} at '{}' refused ({}): dropped", logPrefix, ref.id(), ref.entry().getCursor(),
          ref.code());
      readers.metrics().failed(ref.id(), "commit_refused");
      safe(() -> listener.onError(ref.id(), new CohortRejectedException(ref.code(),
          "checkpoint of " + ref.id() + " at '" + ref.entry().getCursor() + "' refused")));
    } else if (a instanceof Action.ConsumerFenced) {
      host.fenced();
    } else if (a instanceof Action.Settle s) {
      for (CompletableFuture<Void> w : s.waiters()) {
        if (s.error() == null) {
          w.complete(null);
        } else {
          w.completeExceptionally(s.error());
        }
      }
    }
  }

  /** Runs a listener callback; a listener that throws is logged, never fatal. */
  void safe(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("{} listener failed", logPrefix, e);
    }
  }
}
