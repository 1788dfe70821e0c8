package io.cohort.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.junit.jupiter.api.Test;

/** RATIS-NOTES C.4: a leader is fresh while a majority, itself included, answered within the bound. */
class LeaderFreshnessTest {
  private static ServerRpcProto follower(long lastRpcElapsedMs) {
    return ServerRpcProto.newBuilder().setLastRpcElapsedTimeMs(lastRpcElapsedMs).build();
  }

  @Test
  void R12_aLeaderCutOffFromItsFollowersIsNotFresh() {
    assertTrue(LeaderFreshness.fresh(List.of(follower(100), follower(5_000)), 3, 600), "itself and one of two");
    assertFalse(LeaderFreshness.fresh(List.of(follower(700), follower(5_000)), 3, 600), "only itself");
    assertFalse(LeaderFreshness.fresh(List.of(follower(600), follower(600)), 3, 600), "exactly the bound is too old");
    assertFalse(LeaderFreshness.fresh(List.of(follower(10), follower(10_000), follower(10_000)), 4, 600),
        "two of four is no majority");
    assertTrue(LeaderFreshness.fresh(List.of(), 1, 600), "a single node is its own majority");
  }
}
