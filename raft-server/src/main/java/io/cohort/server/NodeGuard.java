package io.cohort.server;

import java.io.IOException;
import java.util.Collection;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fail-stop for one node (RATIS-NOTES D.5, F). Ratis keeps a division running after its log
 * worker failed (every later write fails, the node looks alive and never catches up), closes a
 * removed node's division but not its process (the "zombie"), and closes a division whose apply
 * thread failed, again leaving the process up. Each of these stops the node here through {@link
 * FailStop}, once: the state machine reports log and snapshot write failures and Ratis' shutdown
 * notice; a check every {@link #CHECK_EVERY_MS} catches a closed division and a configuration
 * that no longer names this node (committed, and seen on two checks in a row).
 */
final class NodeGuard implements NodeFailures {
  private static final Logger LOG = LoggerFactory.getLogger(NodeGuard.class);
  static final long CHECK_EVERY_MS = 500;
  static final int UNCOMMITTED_CHECKS = 10;
  static final int CLOSED_CHECKS = 8;
  /** Checks in a row (10 s) a committed configuration names this node a voter that Ratis has not started. */
  static final int UNSTARTED_CHECKS = 20;

  private final RaftPeerId self;
  private final NodeStorage storage;
  private final Supplier<RaftServer.Division> division;
  private final BooleanSupplier stopping;
  private final FailStop failStop;
  private final AtomicBoolean fired = new AtomicBoolean();
  private int absentChecks;
  private int closedChecks;
  private int unstartedChecks;
  private volatile boolean unstartedVoter;

  /**
   * @param division the node's division, or null when there is none (yet)
   * @param stopping true once the node is being closed on purpose: then nothing is a failure
   */
  NodeGuard(RaftPeerId self, NodeStorage storage, Supplier<RaftServer.Division> division, BooleanSupplier stopping,
      FailStop failStop) {
    this.self = self;
    this.storage = storage;
    this.division = division;
    this.stopping = stopping;
    this.failStop = failStop;
  }

  void start(ScheduledExecutorService scheduler) {
    scheduler.scheduleWithFixedDelay(this::checkQuietly, CHECK_EVERY_MS, CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
  }

  boolean fired() {
    return fired.get();
  }

  /** True while a committed configuration names this node a voter but Ratis has not started it (D.7). */
  boolean unstartedVoter() {
    return unstartedVoter;
  }

  // ------------------------------------------------------------------ reported by the state machine

  @Override
  public void logFailed(Throwable cause, long index) {
    fail(FailStop.FAILED, "[" + self + "] the Raft log cannot be written" + (index >= 0 ? " at index " + index : "")
        + " (" + oneLine(cause) + diskState() + "): stopping; restart the node once " + storage.root()
        + " can be written again");
  }

  @Override
  public void snapshotWriteFailed(String file, Throwable cause) {
    fail(FailStop.FAILED, "[" + self + "] snapshot " + file + " cannot be written (" + oneLine(cause) + diskState()
        + "): stopping; restart the node once " + storage.root() + " can be written again");
  }

  @Override
  public void serverShutdown(RoleInfoProto role, boolean allServer) {
    if (stopping.getAsBoolean()) {
      return;
    }
    RaftServer.Division d = division.get();
    if (!allServer && d != null && removedFrom(d.getRaftConf())) {
      removed(d.getRaftConf());
    } else if (!allServer && role.getRole() == RaftPeerRole.CANDIDATE) {
      // The leader answered this node's vote request with "shut down" (Ratis' LeaderElection): its
      // committed configuration leaves this node out, though this node's own may still name it.
      stopRemoved("the leader says this node is not in the Raft configuration");
    } else {
      fail(FailStop.FAILED, "[" + self + "] Raft closed " + (allServer ? "the server" : "this node's group")
          + " (see the log above): stopping so that it restarts");
    }
  }

  /** From {@link JoinGuard}: this empty node is still a member as far as the leader knows. */
  void refuseRejoin(String line) {
    fail(FailStop.FAILED, line);
  }

  // ------------------------------------------------------------------ the periodic check

  private void checkQuietly() {
    try {
      check();
    } catch (RuntimeException e) {
      LOG.debug("[{}] node check: {}", self, e.toString());
    }
  }

  /** One check (tests call it directly). */
  void check() {
    if (fired.get() || stopping.getAsBoolean()) {
      return;
    }
    RaftServer.Division d = division.get();
    if (d == null) {
      return;
    }
    LifeCycle.State state = d.getInfo().getLifeCycleState();
    if (state.isClosingOrClosed() || state == LifeCycle.State.EXCEPTION) {
      // A closed division votes no more: a newest configuration without this node means removed.
      if (leftOutOfNewest(d.getRaftConf())) {
        removed(d.getRaftConf());
        return;
      }
      // Ratis closes a removed candidate's division first (which takes a while) and tells why
      // only then (notifyServerShutdown): give it a few checks.
      if (++closedChecks >= CLOSED_CHECKS) {
        String disk = storageProblem();
        fail(FailStop.FAILED, "[" + self + "] Raft closed this node's group (" + state + (disk == null ? ""
            : "; the Raft log cannot be written: " + disk) + "; see the log above): stopping; restart the node"
            + (disk == null ? "" : " once " + storage.root() + " can be written again"));
      }
      return;
    }
    RaftConfiguration conf = d.getRaftConf();
    if (storage.isJoining()) {
      noteUnstarted(d, state, conf);
      if (state == LifeCycle.State.RUNNING && conf.getPeer(self, RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER) != null) {
        clearJoining(conf);
      }
      return; // waiting to be added: not being in the configuration is expected
    }
    // Ratis starts a node that is not in both halves of its configuration "initializing", without
    // an election timer: a node removed while it was down never learns more. Such a node counts
    // as removed when the newest configuration leaves it out; a running one only once neither
    // half names it (during a joint configuration the old half still needs its vote).
    boolean initializing = state == LifeCycle.State.STARTING;
    if (!(initializing ? leftOutOfNewest(conf) : removedFrom(conf))) {
      absentChecks = 0;
      return;
    }
    // Committed: gone for good. Not known committed (a restarted node that was removed while
    // down learns no commit index from a leader): wait longer, a leader that still counts this
    // node would have reached it by then and replaced its configuration.
    absentChecks++;
    boolean committed = !initializing && conf.getLogEntryIndex() <= d.getRaftLog().getLastCommittedIndex();
    if (absentChecks >= (committed ? 2 : UNCOMMITTED_CHECKS)) {
      removed(conf);
    }
  }

  /**
   * Ratis 3.3.0 can leave an added node initializing although a committed configuration names it
   * a voter (RATIS-NOTES D.7, D.3): it cannot vote, so one more failure can cost the quorum. Said
   * once, after {@link #UNSTARTED_CHECKS} checks; {@code cluster add} hands leadership off then.
   */
  private void noteUnstarted(RaftServer.Division d, LifeCycle.State state, RaftConfiguration conf) {
    boolean voter = state == LifeCycle.State.STARTING && conf.getPreviousPeers().isEmpty()
        && conf.getCurrentPeers(RaftPeerRole.FOLLOWER).stream().anyMatch(p -> p.getId().equals(self))
        && conf.getLogEntryIndex() <= d.getRaftLog().getLastCommittedIndex();
    unstartedChecks = voter ? unstartedChecks + 1 : 0;
    boolean was = unstartedVoter;
    unstartedVoter = unstartedChecks >= UNSTARTED_CHECKS;
    if (unstartedVoter && !was) {
      LOG.warn("[{}] a voter of the committed configuration {}, but Ratis has not started this node: it cannot vote,"
          + " so one more failure can leave the others without a quorum; `cohort leader transfer` starts it", self,
          ids(conf));
    }
  }

  private boolean leftOutOfNewest(RaftConfiguration conf) {
    boolean empty = conf.getCurrentPeers(RaftPeerRole.FOLLOWER).isEmpty()
        && conf.getCurrentPeers(RaftPeerRole.LISTENER).isEmpty();
    return !empty && conf.getCurrentPeers(RaftPeerRole.FOLLOWER).stream().noneMatch(p -> p.getId().equals(self))
        && conf.getCurrentPeers(RaftPeerRole.LISTENER).stream().noneMatch(p -> p.getId().equals(self));
  }

  private void clearJoining(RaftConfiguration conf) {
    try {
      storage.clearJoining();
      LOG.info("[{}] joined: a member of the configuration {}", self, ids(conf));
    } catch (IOException e) {
      LOG.warn("[{}] cannot delete {}: {}", self, NodeStorage.JOIN_MARKER, e.toString());
    }
  }

  /** The configuration names peers, but not this node. */
  private boolean removedFrom(RaftConfiguration conf) {
    boolean empty = conf.getAllPeers(RaftPeerRole.FOLLOWER).isEmpty() && conf.getAllPeers(RaftPeerRole.LISTENER).isEmpty();
    return !empty && conf.getPeer(self, RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER) == null;
  }

  private void removed(RaftConfiguration conf) {
    stopRemoved("removed from the Raft configuration (now " + ids(conf) + ")");
  }

  private void stopRemoved(String what) {
    fail(FailStop.REMOVED, "[" + self + "] " + what + ": stopping; its storage " + storage.root()
        + " is no longer needed");
  }

  /** The voters (and listeners) of the newest configuration: during a change, the one it moves to. */
  static String ids(RaftConfiguration conf) {
    Collection<String> ids = new TreeSet<>();
    for (RaftPeer p : conf.getCurrentPeers(RaftPeerRole.FOLLOWER)) {
      ids.add(p.getId().toString());
    }
    for (RaftPeer p : conf.getCurrentPeers(RaftPeerRole.LISTENER)) {
      ids.add(p.getId() + " (listener)");
    }
    return String.join(",", ids);
  }

  private void fail(int exitCode, String line) {
    if (stopping.getAsBoolean()) {
      LOG.info("{} (while stopping: ignored)", line);
      return;
    }
    if (!fired.compareAndSet(false, true)) {
      return;
    }
    if (exitCode == FailStop.REMOVED) {
      LOG.warn(line);
    } else {
      LOG.error(line);
    }
    // Never on the caller's thread: Ratis' log worker and election threads call in, and stopping
    // the node waits for them.
    Thread t = new Thread(() -> failStop.stop(exitCode, line), "cohort-fail-stop-" + self);
    t.setDaemon(false);
    t.start();
  }

  /** "; 0 bytes free on its disk" and the like: what an operator checks first. */
  private String diskState() {
    StringBuilder b = new StringBuilder();
    String problem = storageProblem();
    if (problem != null) {
      b.append("; ").append(problem);
    }
    try {
      long free = java.nio.file.Files.getFileStore(storage.root()).getUsableSpace();
      b.append("; ").append(free).append(" bytes free on its disk");
    } catch (IOException | RuntimeException e) {
      // no file store to ask
    }
    return b.toString();
  }

  /** Why the log directory cannot be written, or null if a file can be created there. */
  private String storageProblem() {
    try {
      java.nio.file.Path probe = java.nio.file.Files.createTempFile(storage.currentDir(), ".write-check", ".tmp");
      java.nio.file.Files.delete(probe);
      return null;
    } catch (IOException | RuntimeException e) {
      return oneLine(e);
    }
  }

  /** The exception's class and the first message down its causes (MapDB wraps the I/O error). */
  static String oneLine(Throwable t) {
    String m = t.getClass().getSimpleName();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c.getMessage() != null && !c.getMessage().isBlank()) {
        m += (c == t ? ": " : ": " + c.getClass().getSimpleName() + ": ") + c.getMessage();
        break;
      }
    }
    return m.lines().findFirst().orElse(m).strip();
  }
}
