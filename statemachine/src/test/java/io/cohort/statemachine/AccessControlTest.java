package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.entry;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.AccessEntry;
import io.cohort.statemachine.proto.BootstrapAccess;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GrantAccess;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.ListAccess;
import io.cohort.statemachine.proto.ListGroups;
import io.cohort.statemachine.proto.ListTopics;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.RevokeAccess;
import io.cohort.statemachine.proto.Role;
import io.cohort.statemachine.proto.StateRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * R11: the replicated ACL decides, in apply, from the principal stamped into the entry. Every
 * refusal is PERMISSION_DENIED with one line, and changes nothing but the applied index.
 */
class AccessControlTest {

  /** Topics t and u, groups orders-1, orders-2 and billing; alice consumes orders-*, rita reads. */
  private static CoordinatorTestContext cluster() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 4).withTopic("u", 2)
        .withGroup("orders-1", "t").withGroup("orders-2", "t").withGroup("billing", "u");
    ok(ctx.apply(Command.newBuilder().setBootstrapAccess(BootstrapAccess.newBuilder().addAdmins("ops"))));
    ok(grant(ctx, "alice", Role.CONSUMER, "orders-*"));
    ok(grant(ctx, "bob", Role.CONSUMER, "orders-1"));
    ok(grant(ctx, "rita", Role.READER));
    return ctx;
  }

  private static Result grant(CoordinatorTestContext ctx, String principal, Role role, String... groups) {
    return ctx.apply(Command.newBuilder().setGrantAccess(GrantAccess.newBuilder().setPrincipal(principal)
        .setRole(role).addAllGroups(List.of(groups))));
  }

  /** The state without its header (whose applied index moves with every entry). */
  private static List<StateRecord> body(CoordinatorTestContext ctx) {
    List<StateRecord> r = CoordinatorTestContext.records(ctx.coordinator);
    return r.subList(1, r.size());
  }

  private static Result deniedAndNothingChanged(CoordinatorTestContext ctx, String principal, Command.Builder c) {
    List<StateRecord> before = body(ctx);
    long nowBefore = ctx.coordinator.nowMs();
    ctx.advanceMs(5_000);
    Result r = ctx.as(principal).apply(c);
    ctx.as(Principals.INTERNAL);
    assertEquals(Code.PERMISSION_DENIED, r.getCode(), r.getMessage());
    assertFalse(r.getMessage().contains("\n"), "one line: " + r.getMessage());
    assertEquals(before, body(ctx), "a refusal changes nothing");
    assertEquals(nowBefore, ctx.coordinator.nowMs(), "not even the time");
    return r;
  }

  @Test
  void R11_aConsumerMayNotDeleteAGroupNorResetACheckpoint() {
    CoordinatorTestContext ctx = cluster();
    Result r = deniedAndNothingChanged(ctx, "alice", Command.newBuilder()
        .setDeleteGroup(DeleteGroup.newBuilder().setGroup("orders-1").setForce(true)));
    assertTrue(r.getMessage().contains("'alice' (consumer) may not delete group: admin only"), r.getMessage());
    deniedAndNothingChanged(ctx, "alice", Command.newBuilder().setResetCheckpoint(
        io.cohort.statemachine.proto.ResetCheckpoint.newBuilder().setGroup("orders-1").setTopic("t").setCursor("0")));
    deniedAndNothingChanged(ctx, "alice", Command.newBuilder().setGrantAccess(
        GrantAccess.newBuilder().setPrincipal("alice").setRole(Role.ADMIN)));
    deniedAndNothingChanged(ctx, "alice", Command.newBuilder().setTick(io.cohort.statemachine.proto.Tick.getDefaultInstance()));
    ctx.as("ops");
    ok(ctx.apply(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup("orders-2"))));
  }

  @Test
  void R11_aConsumerHeartbeatsOnlyInTheGroupsItWasGranted() {
    CoordinatorTestContext ctx = cluster();
    ctx.as("alice");
    assertEquals(Code.OK, ctx.heartbeatResult("orders-1", "w1").getCode(), "orders-* covers orders-1");
    assertEquals(Code.OK, ctx.heartbeatResult("orders-2", "w1").getCode());
    Result billing = deniedAndNothingChanged(ctx, "alice", Command.newBuilder().setHeartbeat(
        Heartbeat.newBuilder().setGroup("billing").setConsumerId("w1")));
    assertTrue(billing.getMessage().contains("may not heartbeat in group 'billing'"), billing.getMessage());
    deniedAndNothingChanged(ctx, "bob", Command.newBuilder().setHeartbeat(
        Heartbeat.newBuilder().setGroup("orders-2").setConsumerId("w2")));
    deniedAndNothingChanged(ctx, "mallory", Command.newBuilder().setHeartbeat(
        Heartbeat.newBuilder().setGroup("orders-1").setConsumerId("w3")));
  }

  @Test
  void R11_aConsumerIdBelongsToThePrincipalThatJoinedWithIt() {
    CoordinatorTestContext ctx = cluster();
    ctx.as("alice").heartbeat("orders-1", "w1");
    var alice = ctx.consumer("orders-1", "w1");
    long epoch = alice.held.values().iterator().next().getEpoch();

    Result takeover = deniedAndNothingChanged(ctx, "bob", Command.newBuilder().setHeartbeat(
        Heartbeat.newBuilder().setGroup("orders-1").setConsumerId("w1")));
    assertTrue(takeover.getMessage().contains("belongs to principal 'alice'"), takeover.getMessage());
    // Even with alice's token, bob may not commit, renew or leave as w1.
    deniedAndNothingChanged(ctx, "bob", Command.newBuilder().setCommitCheckpoints(
        io.cohort.statemachine.proto.CommitCheckpoints.newBuilder().setGroup("orders-1").setConsumerId("w1")
            .setSessionToken(alice.session).addEntries(entry("t", 0, epoch, "5"))));
    deniedAndNothingChanged(ctx, "bob", Command.newBuilder().setLeave(
        io.cohort.statemachine.proto.Leave.newBuilder().setGroup("orders-1").setConsumerId("w1")
            .setSessionToken(alice.session)));
    assertEquals("alice", ctx.describe("orders-1").getMembers(0).getOwner());

    // Once alice's w1 is gone, the id is free again.
    ctx.as("alice");
    ok(ctx.leave("orders-1", "w1"));
    ctx.as("bob");
    assertEquals(Code.OK, ctx.heartbeatResult("orders-1", "w1").getCode());
    assertEquals("bob", ctx.describe("orders-1").getMembers(0).getOwner());
  }

  @Test
  void R11_anAdminMayTakeOverAnyConsumerId() {
    CoordinatorTestContext ctx = cluster();
    ctx.as("alice").heartbeat("orders-1", "w1");
    ctx.as("ops");
    ctx.restart("orders-1", "w1");
    assertEquals("ops", ctx.describe("orders-1").getMembers(0).getOwner());
  }

  @Test
  void R11_aReaderDescribesAndListsButChangesNothing() {
    CoordinatorTestContext ctx = cluster();
    ctx.as("alice").heartbeat("orders-1", "w1");
    var w1 = ctx.consumer("orders-1", "w1");
    for (Query q : List.of(describe("orders-1"), describe("billing"),
        Query.newBuilder().setListTopics(ListTopics.getDefaultInstance()).build(),
        Query.newBuilder().setListAccess(ListAccess.getDefaultInstance()).build())) {
      assertEquals(Code.OK, ctx.coordinator.query(q, "rita").getCode(), q.toString());
    }
    assertEquals(3, ctx.coordinator.query(listGroups(), "rita").getGroups().getGroupsCount());
    deniedAndNothingChanged(ctx, "rita", Command.newBuilder().setCommitCheckpoints(
        io.cohort.statemachine.proto.CommitCheckpoints.newBuilder().setGroup("orders-1").setConsumerId("w1")
            .setSessionToken(w1.session).addEntries(entry("t", 0, 1, "5"))));
    deniedAndNothingChanged(ctx, "rita", Command.newBuilder().setHeartbeat(
        Heartbeat.newBuilder().setGroup("orders-1").setConsumerId("r1")));
  }

  @Test
  void R11_queriesShowAPrincipalOnlyWhatItMayDescribe() {
    CoordinatorTestContext ctx = cluster();
    assertEquals(Code.OK, ctx.coordinator.query(describe("orders-1"), "bob").getCode());
    assertEquals(Code.PERMISSION_DENIED, ctx.coordinator.query(describe("orders-2"), "bob").getCode());
    assertEquals(Code.PERMISSION_DENIED, ctx.coordinator.query(describe("billing"), "alice").getCode());
    assertEquals(List.of("orders-1", "orders-2"), ctx.coordinator.query(listGroups(), "alice").getGroups()
        .getGroupsList().stream().map(g -> g.getGroup()).toList());
    assertEquals(Code.PERMISSION_DENIED, ctx.coordinator.query(
        Query.newBuilder().setListTopics(ListTopics.getDefaultInstance()).build(), "alice").getCode());
    QueryResult own = ctx.coordinator.query(Query.newBuilder().setListAccess(ListAccess.getDefaultInstance()).build(), "bob");
    assertEquals(List.of("bob"), own.getAccess().getEntriesList().stream().map(AccessEntry::getPrincipal).toList());
    QueryResult info = ctx.coordinator.query(Query.newBuilder().setClusterInfo(
        io.cohort.statemachine.proto.ClusterInfoQuery.getDefaultInstance()).build(), "bob");
    assertEquals("bob", info.getClusterInfo().getPrincipal());
    assertEquals(Role.CONSUMER, info.getClusterInfo().getRole());
    QueryResult stranger = ctx.coordinator.query(describe("orders-1"), "mallory");
    assertEquals(Code.PERMISSION_DENIED, stranger.getCode());
    assertTrue(stranger.getMessage().contains("'mallory' (no role)"), stranger.getMessage());
  }

  @Test
  void R11_grantAddsGroupsRevokeTakesThemAndTheLastAdminStays() {
    CoordinatorTestContext ctx = cluster();
    ok(grant(ctx, "bob", Role.CONSUMER, "billing"));
    assertTrue(ctx.coordinator.acl().mayConsume("bob", "billing"));
    assertTrue(ctx.coordinator.acl().mayConsume("bob", "orders-1"), "groups add up");
    ok(ctx.apply(Command.newBuilder().setRevokeAccess(RevokeAccess.newBuilder().setPrincipal("bob").addGroups("orders-1"))));
    assertFalse(ctx.coordinator.acl().mayConsume("bob", "orders-1"));
    assertEquals(Code.NOT_FOUND, ctx.apply(Command.newBuilder().setRevokeAccess(
        RevokeAccess.newBuilder().setPrincipal("bob").addGroups("orders-9"))).getCode());
    assertEquals(Code.INVALID_ARGUMENT, grant(ctx, "rita", Role.READER, "billing").getCode(), "readers read every group");
    assertEquals(Code.INVALID_ARGUMENT, grant(ctx, "#internal", Role.ADMIN).getCode(), "no certificate can name it");
    assertEquals(Code.FAILED_PRECONDITION, ctx.apply(Command.newBuilder().setRevokeAccess(
        RevokeAccess.newBuilder().setPrincipal("ops"))).getCode());
    assertEquals(Code.FAILED_PRECONDITION, grant(ctx, "ops", Role.READER).getCode());
    ok(grant(ctx, "ops2", Role.ADMIN));
    ok(ctx.apply(Command.newBuilder().setRevokeAccess(RevokeAccess.newBuilder().setPrincipal("ops"))));
    assertEquals(Role.ROLE_UNSPECIFIED, ctx.coordinator.acl().role("ops"));
  }

  @Test
  void R11_theBootstrapAdminsAreSetOnceAndOnlyByTheLeader() {
    CoordinatorTestContext ctx = cluster();
    Result again = ctx.apply(Command.newBuilder().setBootstrapAccess(BootstrapAccess.newBuilder().addAdmins("eve")));
    assertEquals(Code.OK, again.getCode());
    assertEquals(Role.ROLE_UNSPECIFIED, ctx.coordinator.acl().role("eve"), "a second bootstrap changes nothing");
    deniedAndNothingChanged(ctx, "ops", Command.newBuilder().setBootstrapAccess(BootstrapAccess.newBuilder().addAdmins("eve")));
  }

  @Test
  void R11_theAclIsReplicatedStateInSnapshotsAndTheDigest() {
    CoordinatorTestContext ctx = cluster();
    String before = ctx.coordinator.digest().getSha256();
    Coordinator rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(ctx.coordinator).iterator(), Limits.DEFAULTS);
    assertEquals(ctx.coordinator.acl().records(), rebuilt.acl().records());
    assertTrue(rebuilt.acl().bootstrapped());
    assertArrayEquals(CoordinatorTestContext.exportBytes(ctx.coordinator), CoordinatorTestContext.exportBytes(rebuilt));
    ok(grant(ctx, "carol", Role.READER));
    assertFalse(before.equals(ctx.coordinator.digest().getSha256()), "a grant changes the digest");
  }

  @Test
  void R11_aJoinGetsTheTokenTheLeaderStampedNeverOneDerivedFromTheLog() {
    CoordinatorTestContext ctx = cluster();
    ByteString token = ByteString.copyFrom(new byte[] {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6});
    Command join = Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup("orders-1").setConsumerId("w1")).build();
    long index = ctx.coordinator.appliedIndex() + 1;
    Result r = ctx.coordinator.apply(join, index, 1, new Stamp(ctx.nowMs, "alice", token));
    assertEquals(token, r.getHeartbeat().getSessionToken());
    Result noToken = ctx.coordinator.apply(join.toBuilder().setHeartbeat(join.getHeartbeat().toBuilder()
        .setConsumerId("w2")).build(), index + 1, 1, new Stamp(ctx.nowMs, "alice", ByteString.EMPTY));
    assertEquals(Code.INVALID_ARGUMENT, noToken.getCode(), "apply never draws one");
    String shown = ctx.describe("orders-1").getMembers(0).getSessionId();
    assertEquals(8, shown.length());
    String view = new String(ctx.describe("orders-1").toByteArray(), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertFalse(view.contains(new String(token.toByteArray(), java.nio.charset.StandardCharsets.ISO_8859_1)),
        "describe shows no token");
  }

  private static Query describe(String group) {
    return Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(group)).build();
  }

  private static Query listGroups() {
    return Query.newBuilder().setListGroups(ListGroups.getDefaultInstance()).build();
  }
}
