package io.cohort.server;

import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Tick;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends a {@code Tick} command every interval while this server leads and a tick is wanted: some
 * group has members, or an empty group's retention ran out (R7), so sessions expire and old groups
 * go without traffic. Runs on its own scheduler and submits through {@link
 * LocalWrites}; at most one tick is in flight. Never blocks the caller of
 * {@link #start()} or {@link #stop()}, which are state machine callbacks.
 */
final class LeaderTicker {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderTicker.class);
  private static final Message TICK =
      Messages.of(Command.newBuilder().setTick(Tick.getDefaultInstance()).build());

  private final LocalWrites writes;
  private final RaftPeerId self;
  private final BooleanSupplier tickWanted;
  private final long intervalMs;
  private final ScheduledExecutorService scheduler;
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private final AtomicLong ticksSent = new AtomicLong();
  private ScheduledFuture<?> task; // guarded by this

  LeaderTicker(LocalWrites writes, BooleanSupplier tickWanted, long intervalMs,
      ScheduledExecutorService scheduler) {
    this.writes = writes;
    this.self = writes.self();
    this.tickWanted = tickWanted;
    this.intervalMs = intervalMs;
    this.scheduler = scheduler;
  }

  synchronized void start() {
    if (task != null || scheduler.isShutdown()) {
      return;
    }
    LOG.info("[{}] leader ready: ticking every {} ms while groups have members or retention is due", self, intervalMs);
    task = scheduler.scheduleWithFixedDelay(this::tickOnce, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  synchronized void stop() {
    if (task != null) {
      LOG.info("[{}] not leader any more: ticker stopped", self);
      task.cancel(false);
      task = null;
    }
  }

  synchronized boolean running() {
    return task != null;
  }

  long ticksSent() {
    return ticksSent.get();
  }

  private void tickOnce() {
    try {
      if (!tickWanted.getAsBoolean() || !inFlight.compareAndSet(false, true)) {
        return;
      }
      CompletableFuture<RaftClientReply> reply;
      try {
        reply = writes.submit(TICK);
      } catch (Exception e) {
        inFlight.set(false);
        LOG.debug("[{}] tick not submitted: {}", self, e.toString());
        return;
      }
      ticksSent.incrementAndGet();
      reply.whenComplete((r, e) -> {
        inFlight.set(false);
        if (e != null) {
          LOG.debug("[{}] tick failed: {}", self, e.toString());
        } else if (r.getNotLeaderException() != null) {
          stop();
        } else if (!r.isSuccess()) {
          LOG.debug("[{}] tick not applied: {}", self, String.valueOf(r.getException()));
        }
      });
    } catch (RuntimeException e) {
      inFlight.set(false);
      LOG.warn("[{}] ticker error: {}", self, e.toString());
    }
  }
}
