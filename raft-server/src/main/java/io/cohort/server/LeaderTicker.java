package io.cohort.server;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends a {@code Tick} command every interval while this server leads and a tick is wanted: some
 * group has members, or an empty group's retention ran out (R7), so sessions expire and old groups
 * go without traffic, or renewals answered off the log wait (step 11). Runs on its own scheduler and
 * submits through {@link LocalWrites}; at most one tick is in flight, and a tick that is not
 * applied hands its command back ({@code notApplied}: its renewals wait for the next one). Never
 * blocks the caller of {@link #start()} or {@link #stop()}, which are state machine callbacks.
 */
final class LeaderTicker {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderTicker.class);
  private final LocalWrites writes;
  private final RaftPeerId self;
  private final BooleanSupplier tickWanted;
  private final Supplier<Command> nextTick;
  private final Consumer<Command> notApplied;
  private final long intervalMs;
  private final ScheduledExecutorService scheduler;
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private final AtomicLong ticksSent = new AtomicLong();
  private ScheduledFuture<?> task; // guarded by this

  LeaderTicker(LocalWrites writes, BooleanSupplier tickWanted, long intervalMs,
      ScheduledExecutorService scheduler, Supplier<Command> nextTick, Consumer<Command> notApplied) {
    this.writes = writes;
    this.self = writes.self();
    this.tickWanted = tickWanted;
    this.nextTick = nextTick;
    this.notApplied = notApplied;
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

  private static boolean applied(RaftClientReply r) {
    if (!r.isSuccess()) {
      return false;
    }
    try {
      return Result.parseFrom(r.getMessage().getContent().asReadOnlyByteBuffer()).getCode() == Code.OK;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return false;
    }
  }

  private void tickOnce() {
    try {
      if (!tickWanted.getAsBoolean() || !inFlight.compareAndSet(false, true)) {
        return;
      }
      Command tick = nextTick.get();
      CompletableFuture<RaftClientReply> reply;
      try {
        reply = writes.submit(Messages.of(tick));
      } catch (Exception e) {
        notApplied.accept(tick);
        inFlight.set(false);
        LOG.debug("[{}] tick not submitted: {}", self, e.toString());
        return;
      }
      ticksSent.incrementAndGet();
      reply.whenComplete((r, e) -> {
        if (e != null || !applied(r)) {
          notApplied.accept(tick); // before the next tick may drain
        }
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
