package io.cohort.client;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member of one consumer group: joins, heartbeats at the interval the coordinator suggests,
 * reads every granted partition through a {@link PartitionReader}, commits their positions with
 * the grant's epoch, hands partitions over promptly when told to, and leaves on {@link #close()}.
 *
 * <ul>
 *   <li>Commits: every heartbeat carries the unacknowledged positions (R1), split into several
 *       commands when they exceed the cluster's per-command limits (R9); a position not yet sent
 *       goes in its own command once it is {@code commitIntervalMs} old unless a heartbeat is due
 *       within half of that; {@link #commitAsync()} flushes at once; a sealed partition read to its
 *       end is committed {@code finished} at once. With {@code autoCommit=false} only cursors given
 *       to {@link #acknowledge} are committed.
 *   <li>Release (R2, DESIGN §7): the reader stops first (a batch polled after the stop request is
 *       not processed); the heartbeat that leaves the partition out of {@code held} carries its
 *       final position, which the coordinator applies before it lets go.
 *   <li>Fencing (R3): a fenced entry or a grant with a new epoch stops that reader; a new epoch
 *       restarts it from the grant's cursor. A FENCED heartbeat (another process took this consumer
 *       id) stops every reader, then leaves with the old session and final checkpoints, and stays
 *       {@link Status#FENCED}; UNKNOWN_MEMBER (expired) stops everything and joins again.
 *   <li>Session at risk: with no successful heartbeat for the session timeout minus a margin (one
 *       poll at least), readers stop (their partitions may go to others) and resume if the session
 *       survived. Processors see that instant as {@link ProcessingContext#deadlineNanos()}.
 * </ul>
 *
 * <p>Threads: one loop thread owns the protocol state and talks to the cluster, one request at a
 * time; partitions are read on a pool of {@link ConsumerConfig#readerThreads()} threads. Reuse the
 * consumer id across restarts to keep the partitions (static membership).
 */
public final class GroupConsumer<R> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupConsumer.class);

  public enum Status {
    /** Not a member yet (starting, or rejoining after its session was lost). */
    JOINING,
    /** A member with a live session. */
    ACTIVE,
    /** Another process took over this consumer id: stopped for good. */
    FENCED,
    /** Closed. */
    CLOSED,
    /** Cannot run (refused by the cluster, or settings that do not fit the group): stopped for good. */
    FAILED
  }

  private final ConsumerConfig config;
  private final ConsumerLoop<R> loop;

  private GroupConsumer(ConsumerTransport client, ConsumerConfig config, PartitionReader<R> reader,
      RecordProcessor<R> processor, ConsumerListener listener, LongSupplier clockMs) {
    this.config = Objects.requireNonNull(config, "config");
    this.loop = new ConsumerLoop<>(Objects.requireNonNull(client, "client"), config,
        Objects.requireNonNull(reader, "reader"), Objects.requireNonNull(processor, "processor"),
        listener != null ? listener : new ConsumerListener() {}, clockMs);
  }

  /** Starts a consumer without a listener. */
  public static <R> GroupConsumer<R> start(CohortClient client, ConsumerConfig config,
      PartitionReader<R> reader, RecordProcessor<R> processor) {
    return start(client, config, reader, processor, null);
  }

  /**
   * Starts a consumer: it joins at once and keeps going until {@link #close()}. The client stays
   * the caller's (several consumers may share one; close it after them).
   */
  public static <R> GroupConsumer<R> start(CohortClient client, ConsumerConfig config,
      PartitionReader<R> reader, RecordProcessor<R> processor, ConsumerListener listener) {
    return start((ConsumerTransport) client, config, reader, processor, listener);
  }

  static <R> GroupConsumer<R> start(ConsumerTransport client, ConsumerConfig config,
      PartitionReader<R> reader, RecordProcessor<R> processor, ConsumerListener listener) {
    return start(client, config, reader, processor, listener, GroupConsumer::monotonicMs);
  }

  static <R> GroupConsumer<R> start(ConsumerTransport client, ConsumerConfig config,
      PartitionReader<R> reader, RecordProcessor<R> processor, ConsumerListener listener, LongSupplier clockMs) {
    GroupConsumer<R> c = new GroupConsumer<>(client, config, reader, processor, listener, clockMs);
    c.loop.start();
    return c;
  }

  /** Milliseconds on the {@link System#nanoTime()} scale: every session judgement is monotonic (R6). */
  static long monotonicMs() {
    return Math.floorDiv(System.nanoTime(), 1_000_000L);
  }

  public Status status() {
    return loop.status();
  }

  /** Why the consumer is {@link Status#FAILED} (null otherwise). */
  public Throwable failure() {
    return loop.failure();
  }

  /** The current session token: opaque bytes, empty while joining. */
  public com.google.protobuf.ByteString session() {
    return loop.session();
  }

  public ConsumerConfig config() {
    return config;
  }

  /** The partitions whose readers run now, with their grants. */
  public Map<PartitionId, PartitionGrant> reading() {
    return loop.readers().reading();
  }

  /** R12: how often this consumer's watch said "heartbeat now" (tests); 0 without a watch. */
  long watchChanges() {
    return loop.watchChanges();
  }

  /** The partitions being read now, sorted. */
  public Set<PartitionId> assignment() {
    return new TreeSet<>(reading().keySet());
  }

  /**
   * Commits every processed (or acknowledged) position now, in as few commands as the limits
   * allow. Completes when the cluster acknowledged them; fails if one was fenced (R3) or refused,
   * or if the cluster did not answer (the positions are still committed later).
   */
  public CompletableFuture<Void> commitAsync() {
    return loop.commitAll();
  }

  /** Blocking {@link #commitAsync()}. */
  public void commit() {
    BlockingCohortClient.await(commitAsync());
  }

  /**
   * Acknowledge-later commits: records {@code cursor} as the checkpoint of the grant's partition,
   * under the grant's epoch (R3), and commits it with the next flush. Use it with
   * {@code autoCommit=false} when a batch counts as processed only later (e.g. after an async
   * write). The latest acknowledgement of a partition wins: acknowledge in order. The future
   * completes when the cluster acknowledged this cursor (or a later one), and fails FENCED when
   * this consumer no longer holds that grant.
   */
  public CompletableFuture<Void> acknowledge(PartitionGrant grant, String cursor) {
    Objects.requireNonNull(grant, "grant");
    Objects.requireNonNull(cursor, "cursor");
    return loop.acknowledge(grant, cursor);
  }

  /**
   * Stops reading a partition between batches while keeping its grant (it is still heartbeated as
   * held and committed as usual); {@link #resume} reads on from the same position. Returns false
   * when the partition is not being read. A pause lasts while this consumer holds the partition.
   */
  public boolean pause(PartitionId partition) {
    return loop.readers().pause(partition);
  }

  /** Reads a paused partition again from where it stopped; false when it was not paused. */
  public boolean resume(PartitionId partition) {
    return loop.readers().resume(partition);
  }

  /** The partitions paused now. */
  public Set<PartitionId> paused() {
    return loop.readers().paused();
  }

  /**
   * The partitions this consumer holds without reading because the {@link PoisonPolicy} stopped
   * them at their current checkpoint (until an admin reset moves it).
   */
  public Set<PartitionId> poisoned() {
    try {
      return loop.parked().get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Set.of();
    } catch (ExecutionException | TimeoutException e) {
      return Set.of();
    }
  }

  /**
   * Stops every reader, then commits their last positions and leaves the group (its partitions go
   * to the others at once). It keeps heartbeating while readers finish their batch, up to {@code
   * leaveTimeoutMs}; a reader still running after that is waited for until the session's deadline,
   * and then the consumer does not leave at all (R2: never while a reader may still process): its
   * session expires on the coordinator.
   */
  @Override
  public void close() {
    if (loop.onOwnThread()) {
      throw new IllegalStateException("close() from a listener or processor would wait for itself; "
          + "close from another thread");
    }
    if (!loop.post(() -> loop.closeNow())) {
      return;
    }
    try {
      loop.finished.get(loop.closeBoundMs(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("{}: close did not finish cleanly: {}", this, e.toString());
    } finally {
      loop.shutdown();
    }
  }

  /**
   * Stops at once without committing or leaving, as if the process died: its session expires on
   * the coordinator. For tests and benchmarks.
   */
  void halt() {
    loop.shutdown();
  }

  /** The cluster told this consumer its limits (tests). */
  boolean limitsKnown() {
    return loop.exchange().limitsKnown();
  }

  /** Quiet heartbeats sent, and answered OK off the log, so far (step 11, tests). */
  long quietHeartbeatsSent() {
    return loop.exchange().quietSent();
  }

  long quietHeartbeatsOk() {
    return loop.exchange().quietOk();
  }

  /** Commands the cluster refused as too large so far (tests). */
  int refusedForSize() {
    return loop.exchange().refusedForSize();
  }

  /** Reader pool threads alive now (tests). */
  int readerThreads() {
    return loop.readers().poolSize();
  }

  @Override
  public String toString() {
    return "GroupConsumer{" + config.group() + "/" + config.consumerId() + ", " + status() + "}";
  }
}
