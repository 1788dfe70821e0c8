package io.cohort.server;

/**
 * How a node may start when it finds no Raft storage (DESIGN section 4, step 10). A node whose
 * storage exists always starts from it, whatever the mode; the mode only decides what a missing
 * storage means. Ratis' RECOVER would format a missing directory silently, and a node that comes
 * back empty under an id that is still a voter has forgotten its votes (RATIS-NOTES D.6).
 */
public enum StartMode {
  /** Storage must exist: a missing one is refused with the next step to take. */
  RECOVER,
  /** The initial members' first start: format with {@code --peers} as the first configuration. */
  BOOTSTRAP,
  /**
   * An empty node waiting to be added ({@code cohort cluster add/replace}): it starts with an
   * empty group, so it can neither vote nor campaign until the leader's log gives it the
   * configuration that names it.
   */
  JOIN
}
