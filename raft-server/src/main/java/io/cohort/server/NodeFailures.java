package io.cohort.server;

import org.apache.ratis.proto.RaftProtos.RoleInfoProto;

/**
 * Where the failures that must stop a node go ({@link NodeGuard}, step 10): a failed log write
 * (Ratis keeps the division running with a log that fails every later write), a failed snapshot
 * write, Ratis' notice that it shut this node's group down. The state machine reports them.
 */
interface NodeFailures {
  NodeFailures NONE = new NodeFailures() {};

  default void logFailed(Throwable cause, long index) {}

  default void snapshotWriteFailed(String file, Throwable cause) {}

  default void serverShutdown(RoleInfoProto role, boolean allServer) {}
}
