package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.testing.MiniCluster;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.Tick;
import io.cohort.statemachine.proto.UpdateGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R8 under fuzzing: random bytes and mutated valid commands, sent through {@link CohortClient} to a
 * three-node cluster, never crash a node, never make replicas diverge, and always get a code (a
 * {@link Result} with a code, or a rejection with one). Seeded: replay a failure with
 * {@code -Dcohort.fuzz.seed=N}.
 *
 * <p>In package {@code io.cohort.client} to use the client's raw-bytes {@code execute}.
 */
class CommandFuzzTest {
  private static final String[] NAMES = {"t", "t2", "g", "g2", "c1", "c2", "", "x".repeat(300), "bad name", "t.ok-1"};
  private static final int COMMANDS = Integer.getInteger("cohort.fuzz.commands", 1500);
  private static final int WINDOW = 16;

  @TempDir
  Path tmp;

  @Test
  void R8_randomAndMutatedCommandBytesAlwaysGetACodeAndReplicasStayIdentical() throws Exception {
    long seed = Long.getLong("cohort.fuzz.seed", 20261125L);
    Random rnd = new Random(seed);
    try (MiniCluster cluster = MiniCluster.start(3, tmp.resolve("cluster"))) {
      cluster.leaderId();
      CohortClientConfig config = CohortClientConfig.builder(cluster.peers()).tls(cluster.adminTls())
          .callTimeout(Duration.ofSeconds(60)).build();
      Map<String, Integer> outcomes = new TreeMap<>();
      List<String> problems = new ArrayList<>();
      try (CohortClient client = CohortClient.connect(config)) {
        // a little real state for the mutations to hit
        client.blocking().createTopic("t", 4);
        client.blocking().createGroup(CreateGroup.newBuilder().setGroup("g").addTopics("t")
            .setSessionTimeoutMs(600_000).setHeartbeatIntervalMs(1000).build());
        com.google.protobuf.ByteString session = client.blocking().heartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("c1").build())
            .getSessionToken();

        for (int sent = 0; sent < COMMANDS; sent += WINDOW) {
          List<CompletableFuture<String>> window = new ArrayList<>();
          List<byte[]> inputs = new ArrayList<>();
          for (int i = 0; i < WINDOW; i++) {
            byte[] bytes = input(rnd, session);
            inputs.add(bytes);
            window.add(client.execute(bytes, "fuzz").handle((r, e) -> outcome(r, e)));
          }
          for (int i = 0; i < window.size(); i++) {
            String o = window.get(i).get(120, TimeUnit.SECONDS);
            outcomes.merge(o.startsWith("PROBLEM") ? "PROBLEM" : o, 1, Integer::sum);
            if (o.startsWith("PROBLEM")) {
              problems.add(o + " for input " + hex(inputs.get(i)));
            }
          }
          for (String id : List.of("n1", "n2", "n3")) {
            assertFalse(cluster.server(id).isClosed(), "node " + id + " closed (seed " + seed + ")");
          }
        }
        System.out.println("CommandFuzzTest seed " + seed + ": " + COMMANDS + " inputs, outcomes " + outcomes);
        assertTrue(problems.isEmpty(), "seed " + seed + ": inputs without a code: " + problems.subList(0,
            Math.min(5, problems.size())));
        // the cluster still works and every replica holds the same state
        assertEquals(Code.OK, client.execute(Command.newBuilder().setCreateTopic(
            CreateTopic.newBuilder().setTopic("after-fuzz").setPartitions(2)).build()).get(120, TimeUnit.SECONDS)
            .getCode());
      }
      // All three running replicas reach one digest at one applied index. (Comparing each node's
      // digest again afterwards would race with the leader's ticks, which keep appending.)
      var digest = cluster.awaitSameDigest();
      assertTrue(digest.getAppliedIndex() > 0, "seed " + seed + ": " + digest);
      for (String id : List.of("n1", "n2", "n3")) {
        assertTrue(cluster.isRunning(id) && !cluster.server(id).isClosed(), id + " still running");
      }
      assertTrue(outcomes.size() > 2, "the fuzz reached several outcomes: " + outcomes);
    }
  }

  /** "OK", "result:CODE", "rejected:CODE", or "PROBLEM: ..." when no code came back. */
  private static String outcome(Result r, Throwable e) {
    if (e == null) {
      return r.getCode() == Code.CODE_UNSPECIFIED || r.getCode() == Code.UNRECOGNIZED
          ? "PROBLEM: result without a code: " + r : "result:" + r.getCode();
    }
    Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (t instanceof CohortRejectedException re) {
      assertNotEquals(Code.OK, re.code());
      return "rejected:" + re.code();
    }
    return "PROBLEM: " + t;
  }

  private static byte[] input(Random rnd, com.google.protobuf.ByteString session) {
    int kind = rnd.nextInt(10);
    if (kind == 0) {
      byte[] b = new byte[rnd.nextInt(48)];
      rnd.nextBytes(b);
      return b;
    }
    byte[] valid = valid(rnd, session).toByteArray();
    return kind <= 3 ? valid : mutate(rnd, valid);
  }

  private static byte[] mutate(Random rnd, byte[] in) {
    byte[] b = in.clone();
    int ops = 1 + rnd.nextInt(3);
    for (int k = 0; k < ops; k++) {
      switch (rnd.nextInt(5)) {
        case 0 -> { // flip a bit
          if (b.length > 0) {
            int i = rnd.nextInt(b.length);
            b[i] ^= (byte) (1 << rnd.nextInt(8));
          }
        }
        case 1 -> { // random byte
          if (b.length > 0) {
            b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
          }
        }
        case 2 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncate
        case 3 -> { // insert random bytes
          int at = rnd.nextInt(b.length + 1);
          byte[] ins = new byte[1 + rnd.nextInt(8)];
          rnd.nextBytes(ins);
          byte[] n = new byte[b.length + ins.length];
          System.arraycopy(b, 0, n, 0, at);
          System.arraycopy(ins, 0, n, at, ins.length);
          System.arraycopy(b, at, n, at + ins.length, b.length - at);
          b = n;
        }
        default -> { // duplicate a chunk (repeated fields, overlong lengths)
          if (b.length > 1) {
            int from = rnd.nextInt(b.length);
            int len = 1 + rnd.nextInt(b.length - from);
            byte[] n = new byte[b.length + len];
            System.arraycopy(b, 0, n, 0, b.length);
            System.arraycopy(b, from, n, b.length, len);
            b = n;
          }
        }
      }
    }
    return b;
  }

  private static String name(Random rnd) {
    return NAMES[rnd.nextInt(NAMES.length)];
  }

  private static Command valid(Random rnd, com.google.protobuf.ByteString session) {
    int p = rnd.nextInt(8) - 1;
    com.google.protobuf.ByteString s = rnd.nextInt(4) == 0 ? com.google.protobuf.ByteString.copyFrom(java.nio.ByteBuffer.allocate(16).putLong(rnd.nextLong()).array())
        : session;
    CheckpointEntry entry = CheckpointEntry.newBuilder().setTopic(name(rnd)).setPartition(p)
        .setEpoch(rnd.nextInt(4) == 0 ? rnd.nextLong() : rnd.nextInt(50)).setCursor(Long.toString(rnd.nextLong()))
        .setFinished(rnd.nextBoolean()).build();
    PartitionRef ref = PartitionRef.newBuilder().setTopic(name(rnd)).setPartition(p).build();
    Command.Builder c = Command.newBuilder();
    switch (rnd.nextInt(14)) {
      case 0 -> c.setCreateTopic(CreateTopic.newBuilder().setTopic(name(rnd)).setPartitions(rnd.nextInt(20) - 2));
      case 1 -> c.setDeleteTopic(DeleteTopic.newBuilder().setTopic(name(rnd)));
      case 2 -> c.setSplitPartition(SplitPartition.newBuilder().setTopic(name(rnd)).setPartition(p)
          .setEndCursor(Integer.toString(rnd.nextInt(100))));
      case 3 -> c.setMergePartitions(MergePartitions.newBuilder().setTopic(name(rnd)).setPartition1(p)
          .setPartition2(p + 1));
      case 4 -> c.setSetWeight(SetWeight.newBuilder().setTopic(name(rnd)).setPartition(p)
          .setWeight(rnd.nextInt(3) == 0 ? -rnd.nextDouble() : rnd.nextDouble() * 10));
      case 5 -> c.setCreateGroup(CreateGroup.newBuilder().setGroup(name(rnd)).addTopics(name(rnd))
          .setOrder(rnd.nextBoolean()).setSessionTimeoutMs(rnd.nextInt(3) == 0 ? rnd.nextLong() : 5000)
          .setHeartbeatIntervalMs(rnd.nextInt(3000)).setStartFrom(StartFrom.forNumber(rnd.nextInt(3))));
      case 6 -> c.setUpdateGroup(UpdateGroup.newBuilder().setGroup(name(rnd)).setSessionTimeoutMs(rnd.nextInt(20000))
          .addAddTopics(name(rnd)));
      case 7 -> c.setDeleteGroup(DeleteGroup.newBuilder().setGroup(name(rnd)).setForce(rnd.nextBoolean()));
      case 8, 9 -> c.setHeartbeat(Heartbeat.newBuilder().setGroup(name(rnd)).setConsumerId(name(rnd))
          .setSessionToken(rnd.nextBoolean() ? com.google.protobuf.ByteString.EMPTY : s).addHeld(ref).addCommits(entry));
      case 10, 11 -> c.setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup(name(rnd)).setConsumerId(name(rnd))
          .setSessionToken(s).addEntries(entry));
      case 12 -> c.setLeave(Leave.newBuilder().setGroup(name(rnd)).setConsumerId(name(rnd)).setSessionToken(s)
          .addCommits(entry));
      default -> {
        if (rnd.nextBoolean()) {
          c.setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(name(rnd)).setTopic(name(rnd)).setPartition(p)
              .setCursor(Long.toString(rnd.nextInt(1000))));
        } else {
          c.setTick(Tick.getDefaultInstance());
        }
      }
    }
    return c.build();
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }
}
