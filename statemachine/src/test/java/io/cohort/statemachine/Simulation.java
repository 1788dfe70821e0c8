package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.Tick;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A seeded random run: consumers (honest, slow to release, or lying in their `held` lists), admins
 * and the clock act on two replicas in lockstep, and a third replica rebuilt from an export joins
 * half way. After every step the invariants of R2–R5 and R8 are checked; a violation throws with
 * the seed and step so it can be replayed.
 */
final class Simulation {
  static final long SESSION_MS = 3_000;
  static final String[] GROUPS = {"g0", "g1"}; // g1 has order=true
  static final String[] CONSUMERS = {"c0", "c1", "c2", "c3"};

  private final long seed;
  private final Random rnd;
  private final Coordinator primary = new Coordinator(Limits.DEFAULTS);
  private final Coordinator replica = new Coordinator(Limits.DEFAULTS);
  private Coordinator rebuilt;
  private long index;
  private long term = 1;
  private long clockMs = 1_000_000;
  private long skewMs;
  private int step;
  private String lastAction = "";

  /** What one consumer process believes: its session, its grants, what it was told to release. */
  private static final class Client {
    long session;
    long lastOkMs = Long.MIN_VALUE / 2;
    final Map<String, Grant> grants = new TreeMap<>();
    final Map<String, Boolean> releasing = new TreeMap<>();
  }

  private final Map<String, Client> clients = new TreeMap<>();
  /** "group/topic/partition" -> highest epoch ever granted. */
  private final Map<String, Long> maxEpoch = new HashMap<>();
  /** "group/topic/partition" -> the cursor a commit or reset last set, as acknowledged. */
  private final Map<String, String> acked = new HashMap<>();
  private long cursorSeq;

  Simulation(long seed) {
    this.seed = seed;
    this.rnd = new Random(seed);
  }

  void run(int steps) {
    setUp();
    int rebuildAt = 20 + rnd.nextInt(Math.max(1, steps - 40));
    for (step = 0; step < steps; step++) {
      if (step == rebuildAt) {
        rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(primary).iterator(), Limits.DEFAULTS);
      }
      Map<String, GroupView> before = views();
      boolean reset = randomAction();
      checkInvariants(before, views(), reset);
      if (step % 50 == 49) {
        checkReplicasEqual();
      }
    }
    quiesceAndCheckBalance();
    checkReplicasEqual();
  }

  // ------------------------------------------------------------------ driving

  private Result apply(Command command) {
    long stamp = clockMs + skewMs;
    index++;
    Result r = primary.apply(command, index, term, stamp);
    Result r2 = replica.apply(command, index, term, stamp);
    check(r.equals(r2), "replicas answered differently: " + r + " vs " + r2);
    if (rebuilt != null) {
      Result r3 = rebuilt.apply(command, index, term, stamp);
      check(r.equals(r3), "rebuilt replica answered differently: " + r + " vs " + r3);
    }
    return r;
  }

  private void setUp() {
    apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t0").setPartitions(4)).build());
    apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t1").setPartitions(2)).build());
    apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g0").addTopics("t0")
        .addTopics("t1").setSessionTimeoutMs(SESSION_MS).setHeartbeatIntervalMs(1000)).build());
    apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g1").addTopics("t0")
        .setOrder(true).setSessionTimeoutMs(SESSION_MS).setHeartbeatIntervalMs(1000)).build());
  }

  private <T> T pick(T[] items) {
    return items[rnd.nextInt(items.length)];
  }

  private Client client(String group, String consumer) {
    return clients.computeIfAbsent(group + "/" + consumer, k -> new Client());
  }

  /** Returns true when the action was an admin reset (it may bump a held child's epoch). */
  private boolean randomAction() {
    String group = pick(GROUPS);
    String consumer = pick(CONSUMERS);
    int roll = rnd.nextInt(100);
    lastAction = "roll " + roll + " " + group + "/" + consumer;
    if (roll < 40) {
      heartbeat(group, consumer, false, false);
    } else if (roll < 45) {
      heartbeat(group, consumer, true, false);
    } else if (roll < 60) {
      honestCommit(group, consumer);
    } else if (roll < 65) {
      dishonestCommit(group, consumer);
    } else if (roll < 69) {
      heartbeat(group, consumer, false, true); // a restarted process joins with the same id
    } else if (roll < 72) {
      leave(group, consumer);
    } else if (roll < 82) {
      clockMs += 100 + rnd.nextInt(1500);
      tick();
    } else if (roll < 85) {
      clockMs += SESSION_MS + rnd.nextInt(5000);
      tick();
    } else if (roll < 88) {
      split();
    } else if (roll < 90) {
      merge();
    } else if (roll < 93) {
      reset(group);
      return true;
    } else if (roll < 95) {
      weight();
    } else if (roll < 97) {
      term++; // a new leader, whose clock may be off either way
      skewMs = rnd.nextInt(10_000) - 5_000;
      tick();
    } else {
      garbage();
    }
    return false;
  }

  private void tick() {
    Result r = apply(Command.newBuilder().setTick(Tick.getDefaultInstance()).build());
    check(r.getCode() == Code.OK, "tick failed: " + r);
  }

  private void heartbeat(String group, String consumer, boolean lie, boolean restart) {
    Client c = client(group, consumer);
    if (restart) {
      c.session = 0;
      c.grants.clear();
      c.releasing.clear();
    }
    // An honest client drops what it was told to release, sooner or later.
    for (String key : new ArrayList<>(c.releasing.keySet())) {
      if (rnd.nextInt(10) < 7) {
        c.grants.remove(key);
        c.releasing.remove(key);
      }
    }
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer).setSession(c.session);
    for (Grant g : c.grants.values()) {
      hb.addHeld(PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()));
      if (rnd.nextInt(4) == 0) {
        hb.addCommits(nextCommit(g, false));
      }
    }
    if (lie) {
      hb.addHeld(PartitionRef.newBuilder().setTopic(rnd.nextBoolean() ? "t0" : "t1").setPartition(rnd.nextInt(8)));
    }
    Heartbeat sent = hb.build();
    Result r = apply(Command.newBuilder().setHeartbeat(sent).build());
    if (r.getCode() == Code.OK) {
      HeartbeatResult res = r.getHeartbeat();
      ackCommits(group, sent.getCommitsList(), res.getCommitCodesList());
      observe(group, c, res);
    } else {
      check(r.getCode() == Code.FENCED || r.getCode() == Code.UNKNOWN_MEMBER, "heartbeat: " + r);
      dropAll(c);
    }
  }

  private void dropAll(Client c) {
    c.session = 0;
    c.grants.clear();
    c.releasing.clear();
  }

  private void observe(String group, Client c, HeartbeatResult res) {
    c.session = res.getSession();
    c.lastOkMs = primary.nowMs();
    Map<String, Grant> now = new TreeMap<>();
    for (Grant g : res.getGrantsList()) {
      String key = g.getTopic() + "/" + g.getPartition();
      String global = group + "/" + key;
      long max = maxEpoch.getOrDefault(global, 0L);
      check(g.getEpoch() >= max, "grant " + global + " epoch " + g.getEpoch() + " below " + max);
      maxEpoch.put(global, g.getEpoch());
      Grant known = c.grants.get(key);
      if (known == null || known.getEpoch() != g.getEpoch()) {
        c.releasing.remove(key); // a new grant, or a reset: start over from its cursor
      }
      now.put(key, g);
    }
    c.grants.keySet().retainAll(now.keySet()); // the server says it does not hold the rest
    c.grants.putAll(now);
    c.releasing.keySet().retainAll(now.keySet());
    for (PartitionRef ref : res.getReleaseList()) {
      String key = ref.getTopic() + "/" + ref.getPartition();
      if (c.grants.containsKey(key)) {
        c.releasing.put(key, true);
      }
    }
  }

  private CheckpointEntry nextCommit(Grant g, boolean finished) {
    String cursor = Long.toString(++cursorSeq);
    return CheckpointEntry.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition())
        .setEpoch(g.getEpoch()).setCursor(cursor).setFinished(finished).setLag(rnd.nextInt(100)).build();
  }

  private void ackCommits(String group, List<CheckpointEntry> entries, List<Code> codes) {
    check(entries.size() == codes.size(), "one code per commit entry");
    for (int i = 0; i < entries.size(); i++) {
      if (codes.get(i) == Code.OK) {
        CheckpointEntry e = entries.get(i);
        acked.put(group + "/" + e.getTopic() + "/" + e.getPartition(), e.getCursor());
      }
    }
  }

  private void honestCommit(String group, String consumer) {
    Client c = client(group, consumer);
    if (c.grants.isEmpty()) {
      return;
    }
    List<Grant> held = new ArrayList<>(c.grants.values());
    Grant g = held.get(rnd.nextInt(held.size()));
    boolean finished = g.getState() == PartitionState.SEALED && rnd.nextBoolean();
    CheckpointEntry e = nextCommit(g, finished);
    Result r = apply(commitCommand(group, consumer, c.session, e));
    if (r.getCode() != Code.OK) {
      check(r.getCode() == Code.FENCED || r.getCode() == Code.UNKNOWN_MEMBER, "commit: " + r);
      dropAll(c);
      return;
    }
    ackCommits(group, List.of(e), r.getCommit().getCodesList());
    Code code = r.getCommit().getCodes(0);
    if (code == Code.FENCED || (code == Code.OK && finished)) {
      c.grants.remove(g.getTopic() + "/" + g.getPartition()); // fenced, or read to its end
      c.releasing.remove(g.getTopic() + "/" + g.getPartition());
    }
  }

  private void dishonestCommit(String group, String consumer) {
    Client c = client(group, consumer);
    String topic = rnd.nextBoolean() ? "t0" : "t1";
    int partition = rnd.nextInt(8);
    long epoch = rnd.nextInt((int) Math.max(1, index + 1));
    GroupPartitionView before = partitionView(group, topic, partition);
    CheckpointEntry e = CheckpointEntry.newBuilder().setTopic(topic).setPartition(partition)
        .setEpoch(epoch).setCursor(Long.toString(++cursorSeq)).build();
    Result r = apply(commitCommand(group, consumer, c.session, e));
    if (r.getCode() == Code.OK && r.getCommit().getCodes(0) == Code.OK) {
      check(before != null && consumer.equals(before.getHolder()) && before.getEpoch() == epoch,
          "a commit from a non-holder or with a stale epoch was accepted");
      acked.put(group + "/" + topic + "/" + partition, e.getCursor());
    }
  }

  private static Command commitCommand(String group, String consumer, long session, CheckpointEntry e) {
    return Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup(group)
        .setConsumerId(consumer).setSession(session).addEntries(e)).build();
  }

  private void leave(String group, String consumer) {
    Client c = client(group, consumer);
    Leave.Builder leave = Leave.newBuilder().setGroup(group).setConsumerId(consumer).setSession(c.session);
    for (Grant g : c.grants.values()) {
      leave.addCommits(nextCommit(g, false));
    }
    Leave sent = leave.build();
    Result r = apply(Command.newBuilder().setLeave(sent).build());
    if (r.getCode() == Code.OK) {
      ackCommits(group, sent.getCommitsList(), r.getCommit().getCodesList());
    }
    dropAll(c);
  }

  private void split() {
    String topic = rnd.nextBoolean() ? "t0" : "t1";
    SplitPartition.Builder s = SplitPartition.newBuilder().setTopic(topic).setPartition(rnd.nextInt(10));
    if (rnd.nextBoolean()) {
      s.setEndCursor("end");
    }
    apply(Command.newBuilder().setSplitPartition(s).build());
  }

  private void merge() {
    String topic = rnd.nextBoolean() ? "t0" : "t1";
    int p = rnd.nextInt(10);
    apply(Command.newBuilder().setMergePartitions(MergePartitions.newBuilder().setTopic(topic)
        .setPartition1(p).setPartition2(p + 1 - 2 * rnd.nextInt(2))).build());
  }

  private void reset(String group) {
    String topic = rnd.nextBoolean() ? "t0" : "t1";
    int partition = rnd.nextInt(8);
    String cursor = "r" + (++cursorSeq);
    Result r = apply(Command.newBuilder().setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(group)
        .setTopic(topic).setPartition(partition).setCursor(cursor)).build());
    if (r.getCode() == Code.OK) {
      acked.put(group + "/" + topic + "/" + partition, cursor);
    }
  }

  private void weight() {
    double[] weights = {0.5, 1, 2, 3};
    apply(Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic(rnd.nextBoolean() ? "t0" : "t1")
        .setPartition(rnd.nextInt(6)).setWeight(weights[rnd.nextInt(weights.length)])).build());
  }

  private void garbage() {
    byte[] junk = new byte[1 + rnd.nextInt(20)];
    rnd.nextBytes(junk);
    byte[] entry = rnd.nextBoolean() ? junk
        : LogEntry.newBuilder().setTimeMs(clockMs).setCommand(ByteString.copyFrom(junk)).build().toByteArray();
    index++;
    Result r = primary.applyLogEntry(entry, index, term);
    check(r.equals(replica.applyLogEntry(entry, index, term)), "replicas disagree on junk");
    if (rebuilt != null) {
      check(r.equals(rebuilt.applyLogEntry(entry, index, term)), "rebuilt replica disagrees on junk");
    }
  }

  // ------------------------------------------------------------------ invariants

  private Map<String, GroupView> views() {
    Map<String, GroupView> out = new TreeMap<>();
    for (String g : GROUPS) {
      out.put(g, primary.query(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(g)).build()).getGroup());
    }
    return out;
  }

  private GroupPartitionView partitionView(String group, String topic, int partition) {
    for (GroupPartitionView p : views().get(group).getPartitionsList()) {
      if (p.getTopic().equals(topic) && p.getPartition() == partition) {
        return p;
      }
    }
    return null;
  }

  private void checkInvariants(Map<String, GroupView> before, Map<String, GroupView> after, boolean reset) {
    for (String group : GROUPS) {
      GroupView view = after.get(group);
      Map<String, GroupPartitionView> prev = byKey(before.get(group));
      Map<String, GroupPartitionView> now = byKey(view);
      // R2 from the consumers' side: no two live processes believe they hold one partition.
      Map<String, String> believer = new HashMap<>();
      for (String consumer : CONSUMERS) {
        Client c = clients.get(group + "/" + consumer);
        if (c == null || c.session == 0 || primary.nowMs() - c.lastOkMs > SESSION_MS) {
          continue; // a process that has not heard from the server within its session stops reading
        }
        for (String key : c.grants.keySet()) {
          String other = believer.put(key, consumer);
          check(other == null, "R2: " + group + "/" + key + " held by " + other + " and " + consumer);
          GroupPartitionView p = now.get(key);
          check(p != null && consumer.equals(p.getHolder()),
              "R2: " + consumer + " believes it holds " + group + "/" + key + " but the holder is "
                  + (p == null ? "none" : p.getHolder()));
        }
      }
      for (GroupPartitionView p : view.getPartitionsList()) {
        String key = p.getTopic() + "/" + p.getPartition();
        GroupPartitionView old = prev.get(key);
        // Epochs only grow.
        check(old == null || p.getEpoch() >= old.getEpoch(), "epoch of " + group + "/" + key + " went down");
        // R5: an order=true child is granted only when all its parents are finished.
        boolean newGrant = p.hasHolder() && (old == null || !old.hasHolder()
            || !old.getHolder().equals(p.getHolder()) || old.getEpoch() != p.getEpoch());
        if (view.getSummary().getOrder() && newGrant && !reset) {
          check(p.getWaitingForCount() == 0, "R5: " + group + "/" + key + " granted while waiting for "
              + p.getWaitingForList());
        }
        // No acknowledged commit is lost.
        String ack = acked.get(group + "/" + key);
        if (ack != null) {
          check(p.hasCheckpoint() && p.getCheckpoint().getCursor().equals(ack),
              "checkpoint of " + group + "/" + key + " is not the last acknowledged " + ack);
        }
      }
    }
  }

  private static Map<String, GroupPartitionView> byKey(GroupView view) {
    Map<String, GroupPartitionView> out = new HashMap<>();
    for (GroupPartitionView p : view.getPartitionsList()) {
      out.put(p.getTopic() + "/" + p.getPartition(), p);
    }
    return out;
  }

  /** Live consumers heartbeat honestly until nothing moves; then R4's bound must hold. */
  private void quiesceAndCheckBalance() {
    lastAction = "quiesce";
    for (int round = 0; round < 40; round++) {
      clockMs += 100;
      tick();
      for (String group : GROUPS) {
        for (String consumer : CONSUMERS) {
          Client c = clients.get(group + "/" + consumer);
          if (c != null && c.session != 0) {
            c.releasing.keySet().forEach(c.grants::remove);
            c.releasing.clear();
            heartbeat(group, consumer, false, false);
          }
        }
      }
    }
    for (String group : GROUPS) {
      GroupView view = views().get(group);
      if (view.getMembersCount() == 0) {
        continue;
      }
      Map<String, Double> load = new TreeMap<>();
      view.getMembersList().forEach(m -> load.put(m.getConsumerId(), 0.0));
      double maxWeight = 0;
      for (GroupPartitionView p : view.getPartitionsList()) {
        check(p.getStatus() != PartitionStatus.RELEASING && p.getStatus() != PartitionStatus.UNASSIGNED,
            "R4: after quiescence " + group + "/" + p.getTopic() + "/" + p.getPartition() + " is " + p.getStatus());
        if (p.getStatus() == PartitionStatus.HELD) {
          load.merge(p.getHolder(), p.getWeight(), Double::sum);
          maxWeight = Math.max(maxWeight, p.getWeight());
        }
      }
      double spread = load.values().stream().mapToDouble(d -> d).max().orElse(0)
          - load.values().stream().mapToDouble(d -> d).min().orElse(0);
      check(spread <= maxWeight + 1e-9, "R4: " + group + " loads " + load + " differ by more than " + maxWeight);
    }
  }

  private void checkReplicasEqual() {
    byte[] a = CoordinatorTestContext.exportBytes(primary);
    check(Arrays.equals(a, CoordinatorTestContext.exportBytes(replica)), "R8: replicas' exports differ");
    if (rebuilt != null) {
      check(Arrays.equals(a, CoordinatorTestContext.exportBytes(rebuilt)),
          "export -> rebuild -> continue differs from continue");
    }
  }

  private void check(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError("seed " + seed + " step " + step + " (" + lastAction + "): " + what);
    }
  }
}
