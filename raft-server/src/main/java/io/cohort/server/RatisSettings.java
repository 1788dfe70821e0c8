package io.cohort.server;

import io.cohort.client.Peers;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import java.util.concurrent.TimeUnit;

/**
 * Ratis settings for a loaded 2-core machine (RATIS.md section 7), every one overridable by
 * {@link ServerConfig#ratis()}: gRPC; election timeouts 250-400 ms (a follower polls: it notices a
 * dead leader between one and two timeouts after its last AppendEntries, so a kill costs writes
 * under 1.5 s at p99 with the client's retries, docs/BENCHMARKS.md "Failover"; the soak there shows
 * no spurious election under load with GC logging); the batch profile (appender wait 5 ms, sync every 512 entries);
 * linearizable reads (ReadIndex, R10); fast appender retries while a log tail is reconciled;
 * direct (not composed) follower appends; the connections to peers on event loops of their own;
 * automatic snapshots, retention, and log purge up to the snapshot index; and the sizes that bound
 * one command (R9, see {@link #sizes}).
 */
public final class RatisSettings {
  /** See {@link #forServer}: fast retries while a follower's log is reconciled. */
  public static final String APPENDER_RETRY_POLICY = "1ms,500, 100ms,1000000";

  /** Ratis' composed follower appends: off, and an override to on is refused (see {@link #forServer}). */
  public static final String COMPOSED_APPENDS_KEY = RaftServerConfigKeys.Log.APPEND_ENTRIES_COMPOSE_ENABLED_KEY;

  /** Room in a log entry beside the command: Ratis' entry header, the stamp, later the principal. */
  public static final int ENTRY_OVERHEAD_BYTES = 64 * 1024;
  /** The largest command a client can send at all: larger ones gRPC refuses before Ratis sees them. */
  public static final SizeInBytes COMMAND_CEILING = SizeInBytes.valueOf("8MB");
  /** One log entry at most (and one AppendEntries batch): 4 MiB of command plus the overhead. */
  public static final SizeInBytes LOG_ENTRY_MAX = SizeInBytes.valueOf(4 * 1024 * 1024 + ENTRY_OVERHEAD_BYTES);

  /** Event loop threads for this node's connections to its peers (see {@link #forServer}). */
  static final int PEER_EVENT_LOOPS = 2;

  /** How long a leader that lost its majority's heartbeats waits before it may stand again. */
  static final TimeDuration LEADER_STEP_DOWN_WAIT = TimeDuration.valueOf(1, TimeUnit.SECONDS);

  private RatisSettings() {}

  public static RaftProperties forServer(ServerConfig config) {
    RaftProperties p = new RaftProperties();
    // gRPC, with log appenders that survive a race of Ratis 3.3.0 (AppendRequestRace)
    RaftConfigKeys.Rpc.setType(p, new CohortGrpc());
    RaftServerConfigKeys.setStorageDir(p, List.of(config.storageDir().toFile()));
    Peers.Peer self = Peers.of(List.of(config.self())).list().get(0);
    GrpcConfigKeys.Server.setHost(p, self.host());
    GrpcConfigKeys.Server.setPort(p, self.port());

    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(250, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(400, TimeUnit.MILLISECONDS));
    // A leader that loses its majority's heartbeats (400 ms without a response: a new leader whose
    // one live follower answers its first append late, on a loaded 2-core machine) does not stand
    // again for this long; the default 10 s left the cluster leaderless when the other live node's
    // log was behind, so it could not win (demo failover, 2026-12-02: commits resumed after 12 s).
    // Pre-vote keeps a cut-off ex-leader from disrupting anyway. A JVM pause this long steps a
    // leader down too, which its followers (400 ms) have already done.
    RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p, LEADER_STEP_DOWN_WAIT);
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.valueOf(5, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Log.setForceSyncNum(p, 512);
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    // The leader walks a follower's divergent log tail back one entry per INCONSISTENCY reply, and
    // Ratis counts each reply as an error: with the default policy (1 s after 10 errors, 5 s after
    // 30) a restarted ex-leader holding a hundred uncommitted entries takes minutes to rejoin. Keep
    // retries fast for 500 errors, then 100 ms (a dead follower: ~10 attempts a second).
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);
    // Ratis 3.3's composed follower appends tell concurrent requests apart by their first index
    // only: a resend from the same index carrying more entries is answered SUCCESS unwritten, so the
    // leader counts a copy that does not exist and the follower's commit index can pass its log end
    // (then it refuses every append). Direct appends, serialised by the log's lock, are Ratis' path
    // before 3.1.3, which RATIS-2387 made selectable again for speed. FollowerAppendTest.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // The leader's connections to its followers (appends, Raft heartbeats, votes) on event loops of
    // their own. By default they share gRPC's event loops with this port's services, where quiet
    // heartbeats are answered on the thread that read them (WatchService), so a burst of those held
    // the appends back long enough for followers to stand for election on a loaded 2-core machine.
    GrpcConfigKeys.Client.setWorkerGroupSize(p, PEER_EVENT_LOOPS);

    long every = config.stateMachine().autoSnapshotEveryEntries();
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, every > 0);
    if (every > 0) {
      RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, staggeredSnapshotEvery(every, config));
    }
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, config.snapshotsRetained());
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    sizes(p);

    for (Map.Entry<String, String> e : config.ratis().entrySet()) {
      p.set(e.getKey(), e.getValue());
    }
    return p;
  }

  /** Each later node's automatic snapshot interval is this fraction of {@code --snapshot-every} longer. */
  static final double SNAPSHOT_STAGGER = 0.19;

  /**
   * Nodes apply the same entries, so with one threshold all of them froze their state and wrote
   * their snapshot at the same index, the first one on cold code: 4-6 s of three MapDB writes at
   * once on the 2-core machine, which broke a heartbeat bench step twice (docs/BENCHMARKS.md). The
   * k-th node of the peers list by id waits {@code every * (1 + SNAPSHOT_STAGGER k)} entries
   * instead, so the nodes write one after the other. With 0.19 the three nodes' later snapshots stay apart too: at
   * 100,000, at least 4,000 entries apart over the first two million.
   */
  static long staggeredSnapshotEvery(long every, ServerConfig config) {
    List<String> ids = config.peers().stream().map(peer -> peer.getId().toString()).sorted().toList();
    int k = ids.indexOf(config.id().toString()); // the config holds its own id (ServerConfig)
    return every + Math.round(every * SNAPSHOT_STAGGER * k);
  }

  /**
   * One command, whatever its size, must never cost the leader its term (R9). Ratis refuses a log
   * entry over the appender's buffer byte-limit only while appending it ({@code
   * RaftLogBase.appendImpl}: a {@code StateMachineException} that steps the leader down), so the
   * state machine refuses anything larger than {@link #maxCommandBytes} in {@code
   * startTransaction}, before the log. gRPC's inbound message limit refuses what is larger still
   * (over {@link #COMMAND_CEILING}) without reaching Ratis. Constraints Ratis checks at start:
   * message.size.max at least 1 MB over the byte-limit ({@code GrpcServicesImpl}); the log write
   * buffer at least byte-limit + 8 ({@code SegmentedRaftLogWorker}). Snapshot chunks must fit in a
   * gRPC message (default 16 MB would not).
   */
  static void sizes(RaftProperties p) {
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, LOG_ENTRY_MAX);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf("8MB"));
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(COMMAND_CEILING.getSize() + ENTRY_OVERHEAD_BYTES));
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SizeInBytes.valueOf("4MB"));
  }

  /**
   * Every property key Ratis 3.3 declares (the {@code *_KEY} constants of its config-key
   * interfaces): an override outside this set is a typo that Ratis would ignore silently.
   */
  public static final Set<String> KNOWN_KEYS = knownKeys();

  private static Set<String> knownKeys() {
    Set<String> keys = new TreeSet<>();
    for (Class<?> c : List.of(RaftServerConfigKeys.class, GrpcConfigKeys.class, RaftConfigKeys.class,
        RaftClientConfigKeys.class)) {
      collectKeys(c, keys);
    }
    return Collections.unmodifiableSet(keys);
  }

  private static void collectKeys(Class<?> c, Set<String> keys) {
    for (Field f : c.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class && f.getName().endsWith("_KEY")) {
        try {
          keys.add((String) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException("Ratis config key " + f, e);
        }
      }
    }
    for (Class<?> nested : c.getDeclaredClasses()) {
      collectKeys(nested, keys);
    }
  }

  /** The largest command a server with these Ratis overrides appends ({@link #maxCommandBytes(RaftProperties)}). */
  public static int maxCommandBytes(Map<String, String> overrides) {
    RaftProperties p = sizesOnly();
    overrides.forEach(p::set);
    return maxCommandBytes(p);
  }

  /** Only Cohort's size settings: what a state machine outside a server (unit tests) assumes. */
  static RaftProperties sizesOnly() {
    RaftProperties p = new RaftProperties();
    sizes(p);
    return p;
  }

  /**
   * The largest command these properties let a server append: the appender's buffer byte-limit
   * (the largest log entry Ratis appends) minus {@link #ENTRY_OVERHEAD_BYTES}. With Cohort's
   * defaults 4 MiB; the replicated {@code max_command_bytes} may not exceed it.
   */
  public static int maxCommandBytes(RaftProperties p) {
    long entry = RaftServerConfigKeys.Log.Appender.bufferByteLimit(p).getSize();
    return (int) Math.min(Integer.MAX_VALUE, Math.max(0, entry - ENTRY_OVERHEAD_BYTES));
  }
}
