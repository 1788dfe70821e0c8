package io.cohort.server;

import static io.cohort.server.Commands.createGroup;
import static io.cohort.server.Commands.createTopic;
import static io.cohort.server.Commands.heartbeat;
import static io.cohort.server.Commands.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.Peers;
import io.cohort.client.WatchProtocol;
import io.cohort.client.tls.ClientTls;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.AssignmentView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.GrantAccess;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Role;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R12 on a real cluster with mutual TLS: the leader's watch service, called as a consumer would
 * (the shaded gRPC, the Raft port, the client's certificate).
 */
class WatchServiceTest {
  /** A change must wake a watch long before this (its timeout is far longer). */
  private static final long WAKE_MS = 15_000;
  private static final long LONG_TIMEOUT_MS = 50_000;

  @TempDir
  static Path dir;
  static MiniCluster cluster;
  static TestClient admin;
  static final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    cluster = MiniCluster.start(3, dir.resolve("cluster"));
    cluster.leaderId();
    admin = cluster.client();
    ok(admin.write(createTopic("t", 2)));
    ok(admin.write(Command.newBuilder().setGrantAccess(GrantAccess.newBuilder().setPrincipal("bob")
        .setRole(Role.CONSUMER).addGroups("other")).build()));
  }

  @AfterAll
  static void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Result ok(Result r) {
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r;
  }

  private static HeartbeatResult hb(Command c) {
    return ok(admin.write(c)).getHeartbeat();
  }

  private static CompletableFuture<WatchResult> watch(String principal, String peer, String group, String consumer,
      HeartbeatResult last, long timeoutMs) {
    return watch(cluster.tls(principal), peer, request(group, consumer, last, timeoutMs));
  }

  private static WatchRequest request(String group, String consumer, HeartbeatResult last, long timeoutMs) {
    return WatchRequest.newBuilder().setGroup(group).setConsumerId(consumer)
        .setSessionToken(last.getSessionToken()).setKnownView(AssignmentView.of(last)).setTimeoutMs(timeoutMs).build();
  }

  private static CompletableFuture<WatchResult> watch(TlsFiles tls, String peer, WatchRequest req) {
    long timeoutMs = req.getTimeoutMs();
    Peers peers = Peers.parse(cluster.peers());
    ManagedChannel ch = NettyChannelBuilder.forTarget(cluster.address(peer)).useTransportSecurity()
        .sslContext(ClientTls.of(tls, peers).grpcClientContext()).build();
    synchronized (channels) {
      channels.add(ch);
    }
    CompletableFuture<WatchResult> out = new CompletableFuture<>();
    ClientCalls.asyncUnaryCall(ch.newCall(WatchProtocol.METHOD, CallOptions.DEFAULT
        .withDeadlineAfter(timeoutMs + 30_000, TimeUnit.MILLISECONDS)), req, new StreamObserver<>() {
          @Override
          public void onNext(WatchResult v) {
            out.complete(v);
          }

          @Override
          public void onError(Throwable t) {
            out.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return out;
  }

  private static CompletableFuture<WatchResult> watch(String group, String consumer, HeartbeatResult last) {
    return watch(MiniCluster.ADMIN, cluster.leaderId(), group, consumer, last, LONG_TIMEOUT_MS);
  }

  private static WatchResult woken(CompletableFuture<WatchResult> w) throws Exception {
    WatchResult r = w.get(WAKE_MS, TimeUnit.MILLISECONDS);
    assertTrue(r.getChanged(), r.toString());
    return r;
  }

  /** The watch stays parked: nothing changed for its member. */
  private static void stillParked(CompletableFuture<WatchResult> w) throws Exception {
    assertThrows(TimeoutException.class, () -> w.get(500, TimeUnit.MILLISECONDS));
  }

  private static String group(String name, long sessionMs) {
    ok(admin.write(createGroup(name, "t", sessionMs)));
    return name;
  }

  @Test
  void R12_aWatchWithNothingToTellReturnsUnchangedAtItsTimeout() throws Exception {
    String g = group("timeout", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    long t0 = System.nanoTime();
    WatchResult r = watch(MiniCluster.ADMIN, cluster.leaderId(), g, "A", a, 700).get(WAKE_MS, TimeUnit.MILLISECONDS);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(Code.OK, r.getCode());
    assertFalse(r.getChanged());
    assertTrue(tookMs >= 650, "returned after " + tookMs + " ms, before its timeout");
  }

  @Test
  void R12_aReleaseAskedWakesTheHolderAndTheGrantReadyWakesTheNewMember() throws Exception {
    String g = group("handoff", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    assertEquals(2, a.getGrantsCount());
    CompletableFuture<WatchResult> aWatch = watch(g, "A", a);
    stillParked(aWatch);
    hb(heartbeat(g, "A", a.getSessionToken(), a.getGrantsList())); // a renewal changes nothing A sees
    stillParked(aWatch);

    HeartbeatResult b = hb(join(g, "B"));
    assertEquals(0, b.getGrantsCount());
    assertEquals(Code.OK, woken(aWatch).getCode());
    CompletableFuture<WatchResult> bWatch = watch(g, "B", b);
    stillParked(bWatch);

    HeartbeatResult told = hb(heartbeat(g, "A", a.getSessionToken(), a.getGrantsList()));
    assertEquals(1, told.getReleaseCount());
    var kept = a.getGrantsList().stream()
        .filter(x -> x.getPartition() != told.getRelease(0).getPartition()).toList();
    hb(heartbeat(g, "A", a.getSessionToken(), kept)); // released
    assertEquals(Code.OK, woken(bWatch).getCode());
    assertEquals(1, hb(heartbeat(g, "B", b.getSessionToken(), List.of())).getGrantsCount());
  }

  @Test
  void R12_aFencedSessionAndAnExpiredMemberAreToldAtOnceOrAsTheyHappen() throws Exception {
    String g = group("fence", 2_000);
    HeartbeatResult old = hb(join(g, "A"));
    CompletableFuture<WatchResult> oldWatch = watch(g, "A", old);
    stillParked(oldWatch);
    hb(join(g, "A")); // a second process with the same consumer id
    assertEquals(Code.FENCED, woken(oldWatch).getCode());

    String e = group("expiry", 2_000);
    HeartbeatResult only = hb(join(e, "E"));
    CompletableFuture<WatchResult> w = watch(e, "E", only);
    // nobody heartbeats: the tick expires the member after its 2 s session
    assertEquals(Code.UNKNOWN_MEMBER, woken(w).getCode());
  }

  @Test
  void R12_aDeletedGroupWakesItsWatches() throws Exception {
    String g = group("deleted", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    CompletableFuture<WatchResult> w = watch(g, "A", a);
    stillParked(w);
    ok(admin.write(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup(g).setForce(true)).build()));
    assertEquals(Code.NOT_FOUND, woken(w).getCode());
  }

  @Test
  void R12_onlyTheLeaderAnswersAFollowerNamesIt() throws Exception {
    String g = group("follower", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    String leader = cluster.leaderId();
    String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> watch(MiniCluster.ADMIN, follower, g, "A", a, 1_000).get(WAKE_MS, TimeUnit.MILLISECONDS));
    StatusRuntimeException s = assertInstanceOf(StatusRuntimeException.class, e.getCause());
    assertEquals(Status.Code.UNAVAILABLE, s.getStatus().getCode());
    assertEquals(leader, s.getTrailers().get(WatchProtocol.LEADER));
  }

  @Test
  void R11_aWatchByAPrincipalNotAllowedInTheGroupIsRefused() throws Exception {
    String g = group("private", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    for (String who : List.of("mallory", "bob")) { // no role; a consumer of another group
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> watch(who, cluster.leaderId(), g, "A", a, 1_000).get(WAKE_MS, TimeUnit.MILLISECONDS));
      StatusRuntimeException s = assertInstanceOf(StatusRuntimeException.class, e.getCause());
      assertEquals(Status.Code.PERMISSION_DENIED, s.getStatus().getCode(), who);
    }
  }

  private static Status.Code refusal(CompletableFuture<WatchResult> w) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> w.get(WAKE_MS, TimeUnit.MILLISECONDS));
    return assertInstanceOf(StatusRuntimeException.class, e.getCause()).getStatus().getCode();
  }

  @Test
  void R11_aNodeCertificateMayNotWatch() throws Exception {
    String g = group("node-cert", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    String leader = cluster.leaderId();
    assertEquals(Status.Code.PERMISSION_DENIED,
        refusal(watch(cluster.certs().node(leader), leader, request(g, "A", a, 1_000))));
  }

  @Test
  void R9_aWatchWithAnOversizedNameIsRefusedBeforeAnythingIsLookedUp() throws Exception {
    String g = group("oversized", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    WatchRequest req = request(g, "A", a, 1_000).toBuilder().setConsumerId("c".repeat(256)).build();
    assertEquals(Status.Code.INVALID_ARGUMENT,
        refusal(watch(cluster.tls(MiniCluster.ADMIN), cluster.leaderId(), req)));
  }

  @Test
  void R12_aConsumerParksAtMostTwoWatchesTheOldestIsAnsweredUnchanged() throws Exception {
    String g = group("crowded", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    CompletableFuture<WatchResult> first = watch(g, "A", a);
    stillParked(first);
    CompletableFuture<WatchResult> second = watch(g, "A", a);
    stillParked(second);
    assertFalse(first.isDone());
    CompletableFuture<WatchResult> third = watch(g, "A", a);
    WatchResult r = first.get(WAKE_MS, TimeUnit.MILLISECONDS);
    assertEquals(Code.OK, r.getCode());
    assertFalse(r.getChanged(), "evicted, not woken");
    assertFalse(second.isDone());
    assertFalse(third.isDone());
  }
}
