package io.cohort.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * Where a node's Raft storage lives and what is in it, read before Ratis touches it: {@code
 * <storage>/<group uuid>/current/raft-meta} (term and vote) marks storage that exists; {@code
 * raft-meta.conf} the last configuration applied; {@code <storage>/cohort-joining} a node started
 * with {@code --join} that has not yet seen itself in a configuration.
 */
final class NodeStorage {
  static final String JOIN_MARKER = "cohort-joining";

  private final Path root;
  private final RaftGroupId groupId;

  NodeStorage(Path root, RaftGroupId groupId) {
    this.root = root;
    this.groupId = groupId;
  }

  Path root() {
    return root;
  }

  Path groupDir() {
    return root.resolve(groupId.getUuid().toString());
  }

  Path currentDir() {
    return groupDir().resolve("current");
  }

  Path stateMachineDir() {
    return groupDir().resolve("sm");
  }

  /** Ratis' term-and-vote file: storage exists (was formatted) iff it does. */
  boolean exists() {
    return Files.isRegularFile(currentDir().resolve("raft-meta"));
  }

  boolean isJoining() {
    return Files.exists(root.resolve(JOIN_MARKER));
  }

  void markJoining() throws IOException {
    Files.createDirectories(root);
    Files.writeString(root.resolve(JOIN_MARKER),
        "started with --join; deleted once this node is a member of the Raft configuration\n");
  }

  void clearJoining() throws IOException {
    Files.deleteIfExists(root.resolve(JOIN_MARKER));
  }
}
