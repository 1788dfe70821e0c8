package io.cohort.server;

import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.snapshot.SnapshotWriter;
import io.cohort.statemachine.Acl;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.Principals;
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
import io.cohort.statemachine.proto.Renewal;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Tick;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Runs the paths every write takes — admission on the leader, a log entry parsed as followers and
 * replay parse it, the apply — and one snapshot write, MD5 and load, on a throwaway state in a
 * scratch directory, before the node starts (issue 14). On the 2-core machine a cold node spent its
 * first minute compiling exactly these under load, and wrote its first snapshot (133 records) in
 * about a second on cold code; here the interpreter and C1 meet them with no request waiting.
 * Touches nothing of the node's own: its state, storage and Ratis are not built yet.
 */
final class StartupWarmup {
  /**
   * Off by default ({@code cohort server --warmup-ms N} turns it on): on the second 2-core machine
   * three servers warming at once applied only 5,000-7,000 commands in 2 s, mostly interpreted, and
   * started Raft 4-6 s later; Cohort alone served fewer writes at 60 s of age with it than without
   * in every alternated run (docs/BENCHMARKS.md, "Warm-up (step 11)").
   */
  static final long DEFAULT_BUDGET_MS = 0;
  /** Enough for C2 to take the apply path's hot methods; more only costs start time. */
  static final int MAX_COMMANDS = 30_000;

  private static final String TOPIC = "warmup";
  private static final String GROUP = "warmup";
  private static final int PARTITIONS = 16;
  private static final int CONSUMERS = 4;
  private static final long SESSION_MS = 10_000;

  /** What it did: commands applied, the snapshot written and loaded, and how long it all took. */
  record Report(int commands, int notOk, long snapshotRecords, long elapsedMs) {}

  private final Coordinator state = new Coordinator(Limits.DEFAULTS);
  private final List<HeartbeatResult> members = new ArrayList<>();
  private long index;
  private long nowMs = 1_000_000;
  private int commands;
  private int notOk;
  private long tokens;

  private StartupWarmup() {}

  /**
   * @param scratchParent where the scratch directory goes (deleted before it returns)
   * @param budgetMs stop applying after this long; the snapshot follows
   */
  static Report run(Path scratchParent, long budgetMs) throws IOException {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.MILLISECONDS.toNanos(budgetMs);
    StartupWarmup w = new StartupWarmup();
    w.applyUntil(deadline);
    long records = w.snapshotOnce(scratchParent);
    return new Report(w.commands, w.notOk, records, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  private void applyUntil(long deadlineNanos) {
    write(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(TOPIC).setPartitions(PARTITIONS)));
    write(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(GROUP).addTopics(TOPIC)
        .setSessionTimeoutMs(SESSION_MS)));
    for (int i = 0; i < CONSUMERS; i++) {
      members.add(heartbeat(Heartbeat.newBuilder().setGroup(GROUP).setConsumerId("c" + i)));
    }
    for (int round = 0; commands < MAX_COMMANDS && System.nanoTime() < deadlineNanos; round++) {
      nowMs += 5;
      Tick.Builder tick = Tick.newBuilder();
      for (int i = 0; i < CONSUMERS; i++) {
        HeartbeatResult m = members.get(i);
        String id = "c" + i;
        CommitCheckpoints.Builder commit = CommitCheckpoints.newBuilder().setGroup(GROUP).setConsumerId(id)
            .setSessionToken(m.getSessionToken());
        Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(GROUP).setConsumerId(id)
            .setSessionToken(m.getSessionToken());
        for (Grant g : m.getGrantsList()) {
          PartitionRef ref = PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()).build();
          if (!m.getReleaseList().contains(ref)) { // an honest consumer lets go of what it was asked to
            hb.addHeld(ref);
            commit.addEntries(CheckpointEntry.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition())
                .setEpoch(g.getEpoch()).setCursor("offset-" + round));
          }
        }
        write(Command.newBuilder().setCommitCheckpoints(commit));
        state.quietHeartbeat(hb.build(), Principals.INTERNAL, nowMs); // the leader's off-log answer
        if (round % 8 == i || m.getReleaseCount() > 0) {
          members.set(i, heartbeat(hb)); // a replicated one now and then, and to hand a partition over
        }
        tick.addRenewals(Renewal.newBuilder().setGroup(GROUP).setConsumerId(id).setSessionToken(m.getSessionToken())
            .setSeenAtMs(nowMs));
      }
      write(Command.newBuilder().setTick(tick.setExpiryCutoffMs(nowMs)));
    }
  }

  /** Its answer; a refused one (it cannot be, but the warm-up must not stop a node) rejoins. */
  private HeartbeatResult heartbeat(Heartbeat.Builder hb) {
    Result r = write(Command.newBuilder().setHeartbeat(hb));
    if (r.getCode() == Code.OK) {
      return r.getHeartbeat();
    }
    Result rejoined = write(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(GROUP)
        .setConsumerId(hb.getConsumerId())));
    return rejoined.getCode() == Code.OK ? rejoined.getHeartbeat() : HeartbeatResult.getDefaultInstance();
  }

  /** As the leader admits a command and a follower applies its log entry. */
  private Result write(Command.Builder command) {
    byte[] payload = command.build().toByteArray();
    CommandAdmission.Admitted admitted = CommandAdmission.admit(Envelopes.internal(payload), Limits.DEFAULTS,
        p -> Acl.EMPTY, Integer.MAX_VALUE, c -> nowMs, this::token);
    CommandAdmission.Admitted logged = CommandAdmission.parseLogged(ByteString.copyFrom(admitted.logData()));
    commands++;
    Result r = state.apply(logged.command(), logged.commandBytes(), ++index, 1, logged.stamp());
    if (r.getCode() != Code.OK || r.hasCommit() && r.getCommit().getCodesList().stream().anyMatch(c -> c != Code.OK)) {
      notOk++;
    }
    return r;
  }

  private com.google.protobuf.ByteString token() {
    return com.google.protobuf.ByteString.copyFrom(java.nio.ByteBuffer.allocate(16).putLong(8, ++tokens).array());
  }

  /** Writes the state as an auto-snapshot would, checks its MD5 and loads it back; then deletes it. */
  private long snapshotOnce(Path scratchParent) throws IOException {
    Files.createDirectories(scratchParent);
    Path dir = Files.createTempDirectory(scratchParent, "cohort-warmup-");
    try {
      FrozenState frozen = state.freeze();
      Path file = dir.resolve("snapshot.1_" + index);
      SnapshotWriter.Written written = SnapshotWriter.write(frozen, 1, index, file, nowMs);
      MD5FileUtil.saveMD5File(file.toFile(), MD5FileUtil.computeMd5ForFile(file.toFile()));
      try (SnapshotFile read = SnapshotFile.open(file)) {
        read.verify();
        read.load(Limits.DEFAULTS);
      }
      return written.records();
    } finally {
      RestoredStorage.deleteContents(dir, true);
    }
  }
}
