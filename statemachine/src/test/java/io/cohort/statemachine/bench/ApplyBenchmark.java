package io.cohort.statemachine.bench;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.TestStamps;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Tick;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Coordinator.apply} on one thread at DESIGN.md's size: 1,000 groups each reading its own
 * topic of 100 partitions (100,000 partitions) with 10 members each (10,000 members).
 * Run with {@code scripts/bench-apply.sh}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgs = {"-Xmx4g", "-XX:+UseG1GC"})
public class ApplyBenchmark {
  @Param({"1000"})
  int groups;
  @Param({"100"})
  int partitionsPerGroup;
  @Param({"10"})
  int membersPerGroup;

  private Coordinator coordinator;
  private long index;
  private long timeMs = 1_000_000;
  private Command[] commits;
  private Command[] heartbeats;
  private int nextCommit;
  private int nextHeartbeat;

  @Setup(Level.Trial)
  public void setUp() {
    coordinator = new Coordinator(Limits.DEFAULTS);
    List<Command> commitList = new ArrayList<>();
    List<Command> heartbeatList = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      String topic = "topic-" + g;
      String group = "group-" + g;
      apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(topic)
          .setPartitions(partitionsPerGroup)).build());
      apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic)
          .setSessionTimeoutMs(600_000).setHeartbeatIntervalMs(1000)).build());
      ByteString[] sessions = new ByteString[membersPerGroup];
      for (int m = 0; m < membersPerGroup; m++) {
        sessions[m] = heartbeat(group, "consumer-" + m, ByteString.EMPTY, List.of()).getSessionToken();
      }
      // Everyone heartbeats with what it holds (releases obeyed) until nothing moves.
      HeartbeatResult[] last = new HeartbeatResult[membersPerGroup];
      for (int round = 0; round < 10; round++) {
        for (int m = 0; m < membersPerGroup; m++) {
          List<PartitionRef> held = new ArrayList<>();
          if (last[m] != null) {
            for (Grant gr : last[m].getGrantsList()) {
              boolean releasing = last[m].getReleaseList().stream().anyMatch(r -> r.getPartition() == gr.getPartition());
              if (!releasing) {
                held.add(PartitionRef.newBuilder().setTopic(topic).setPartition(gr.getPartition()).build());
              }
            }
          }
          last[m] = heartbeat(group, "consumer-" + m, sessions[m], held);
        }
      }
      for (int m = 0; m < membersPerGroup; m++) {
        Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(group).setConsumerId("consumer-" + m)
            .setSessionToken(sessions[m]);
        for (Grant gr : last[m].getGrantsList()) {
          hb.addHeld(PartitionRef.newBuilder().setTopic(topic).setPartition(gr.getPartition()));
          commitList.add(Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder()
              .setGroup(group).setConsumerId("consumer-" + m).setSessionToken(sessions[m])
              .addEntries(CheckpointEntry.newBuilder().setTopic(topic).setPartition(gr.getPartition())
                  .setEpoch(gr.getEpoch()).setCursor(Long.toString(1_000_000_000L + commitList.size()))
                  .setLag(17).setLagMs(250)))
              .build());
        }
        heartbeatList.add(Command.newBuilder().setHeartbeat(hb).build());
      }
    }
    java.util.Collections.shuffle(commitList, new java.util.Random(1));
    java.util.Collections.shuffle(heartbeatList, new java.util.Random(2));
    commits = commitList.toArray(new Command[0]);
    heartbeats = heartbeatList.toArray(new Command[0]);
    if (commits.length != groups * partitionsPerGroup) {
      throw new IllegalStateException("setup did not grant every partition: " + commits.length);
    }
    // Every prepared command must succeed, or the benchmark measures rejections.
    for (Command c : commits) {
      Result r = apply(c);
      if (r.getCommit().getCodes(0) != Code.OK) {
        throw new IllegalStateException("commit rejected: " + r);
      }
    }
    for (Command c : heartbeats) {
      Result r = apply(c);
      if (r.getCode() != Code.OK || r.getHeartbeat().getReleaseCount() != 0) {
        throw new IllegalStateException("heartbeat not steady: " + r);
      }
    }
  }

  private Result apply(Command c) {
    index++;
    return coordinator.apply(c, index, 1, TestStamps.at(timeMs, index));
  }

  private HeartbeatResult heartbeat(String group, String consumer, ByteString session, List<PartitionRef> held) {
    Result r = apply(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(group)
        .setConsumerId(consumer).setSessionToken(session).addAllHeld(held)).build());
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException(r.toString());
    }
    return r.getHeartbeat();
  }

  /** One single-partition checkpoint commit. */
  @Benchmark
  public Result commit() {
    Command c = commits[nextCommit];
    nextCommit = nextCommit + 1 == commits.length ? 0 : nextCommit + 1;
    index++;
    return coordinator.apply(c, index, 1, TestStamps.at(++timeMs, index));
  }

  /** A steady member's heartbeat: it holds its 10 partitions and nothing changes. */
  @Benchmark
  public Result heartbeat() {
    Command c = heartbeats[nextHeartbeat];
    nextHeartbeat = nextHeartbeat + 1 == heartbeats.length ? 0 : nextHeartbeat + 1;
    index++;
    return coordinator.apply(c, index, 1, TestStamps.at(++timeMs, index));
  }

  /**
   * The leader's Tick with nothing due: no renewals, every member live (R7). Run 4 times a second on
   * every replica; until d4532a9 it looked at every member of every group to find none expired.
   */
  @Benchmark
  public Result tick() {
    index++;
    return coordinator.apply(TICK, index, 1, TestStamps.at(timeMs, index)); // time stands: nobody expires
  }

  private static final Command TICK = Command.newBuilder().setTick(Tick.getDefaultInstance()).build();

  /** Decoding the log entry bytes as the server does, then the commit. */
  @Benchmark
  public Result commitFromBytes(EntryBytes bytes) {
    byte[] entry = bytes.entries[nextCommit];
    nextCommit = nextCommit + 1 == commits.length ? 0 : nextCommit + 1;
    return coordinator.applyLogEntry(entry, ++index, 1);
  }

  @State(Scope.Thread)
  public static class EntryBytes {
    byte[][] entries;

    @Setup(Level.Trial)
    public void setUp(ApplyBenchmark bench) {
      entries = new byte[bench.commits.length][];
      for (int i = 0; i < entries.length; i++) {
        entries[i] = io.cohort.statemachine.proto.LogEntry.newBuilder().setTimeMs(bench.timeMs + i)
            .setCommand(bench.commits[i].toByteString()).build().toByteArray();
      }
    }
  }
}
