package io.cohort.server;

/**
 * What a node does when it must stop for good (step 10, fail-stop): a log or snapshot write
 * failed (full or broken disk), Raft closed the node's group, or the node was removed from the
 * configuration. The server process prints the line and exits, so its supervisor restarts it
 * (or, removed, leaves it down); tests record it.
 */
@FunctionalInterface
public interface FailStop {
  /** Exit code of a node removed from the configuration: nothing failed, it is no longer needed. */
  int REMOVED = 0;
  /** Exit code of a node that failed: a supervisor should restart it once the cause is fixed. */
  int FAILED = 1;

  /**
   * Called at most once per node, on a thread of its own (never a Ratis thread).
   *
   * @param exitCode {@link #REMOVED} or {@link #FAILED}
   * @param line what happened and what to do, one line for the operator
   */
  void stop(int exitCode, String line);
}
