package io.cohort.statemachine;

import io.cohort.statemachine.proto.ClusterInfoQuery;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Tick;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** The simulated cluster of {@link Simulation}: its state, clocks and log, and the invariants checked after every step. */
abstract class SimCluster {
  static final Limits LIMITS = Limits.DEFAULTS.with(LimitsRecord.newBuilder().setMaxTopics(8)
      .setMaxPartitionsPerTopic(100).setMaxGroups(6).setMaxTopicsPerGroup(3).setMaxMembersPerGroup(24)
      .setMaxMembers(50).setMaxEntriesPerCommand(8).setMaxCursorBytes(12).setMaxSlots(420)
      .setMaxHeldPerHeartbeat(200).build());
  static final int MAX_IDS = 20;

  /** -Dsim.trace=GROUP prints every command touching that group, with its answer (to debug a replay). */
  static final String TRACE = System.getProperty("sim.trace", "");

  final long seed;
  final Random rnd;
  final Coordinator primary = new Coordinator(LIMITS);
  final Coordinator replica = new Coordinator(LIMITS);
  Coordinator rebuilt;
  long index;
  long term = 1;
  long realMs = 1_000_000;
  long wallOffsetMs;
  long monoOffsetNs;
  final LeaderClock leader = new LeaderClock();
  int step;
  String action = "setup";
  boolean quiet;
  /** While checking that nothing moves: consumers make progress but read nothing to its end. */
  boolean still;

  final List<SimProcess> processes = new ArrayList<>();
  int nextProcessId;
  final SimOracle oracle = new SimOracle(this::fail);
  /** Live groups -> order flag. */
  final Map<String, Boolean> groups = new TreeMap<>();
  /** Per group: how many consumer ids are in use now. */
  final Map<String, Integer> activeIds = new HashMap<>();
  /** topic -> partition -> parents. */
  final Map<String, Map<Integer, int[]>> lineage = new TreeMap<>();
  final Map<String, List<PartitionView>> topics = new TreeMap<>();
  /**
   * "group/consumer" -> the latest real time its session can last: over all its applied heartbeats,
   * the heartbeat's time plus the session timeout it was told (a replaced session keeps its own).
   */
  final Map<String, Long> heardUntil = new HashMap<>();
  /** group -> until when (real time) a term's start pushed its members' deadlines (R6), the latest. */
  final Map<String, Long> pushedUntil = new HashMap<>();
  /**
   * Step 11: what the leader answered off the log and keeps in memory for its next tick; lost when
   * it stops leading. A deposed leader keeps running on its last state for a while.
   */
  final Map<String, io.cohort.statemachine.proto.Renewal> renewals = new java.util.LinkedHashMap<>();
  Coordinator deposed;
  long deposedUntilRealMs;
  int dynamicSeq;
  long cursorSeq;
  final Map<String, Integer> stats = new TreeMap<>();

  SimCluster(long seed) {
    this.seed = seed;
    this.rnd = new Random(seed);
    this.delays = new Random(~seed);
  }

  /**
   * Draws the groups' initial rebalance delays (R4), apart from {@link #rnd} so that adding them left
   * every other choice of a seed as it was.
   */
  final Random delays;

  /** An initial rebalance delay: none in half the groups, else up to 1 s (forming ends within a quiet period). */
  long initialRebalanceDelayMs() {
    return delays.nextBoolean() ? 0 : 100 + delays.nextInt(901);
  }

  // ------------------------------------------------------------------ the cluster

  long monoNs() {
    return realMs * 1_000_000L + monoOffsetNs;
  }

  long wallMs() {
    return realMs + wallOffsetMs;
  }

  /** As the leader does: refuse before the log what validation refuses; else stamp and apply everywhere. */
  Result append(Command c) {
    Result refused = Coordinator.validate(c, c.getSerializedSize(), primary.limits());
    if (refused != null) {
      return refused;
    }
    long stamp = leader.stampMs(monoNs());
    index++;
    Result r = primary.apply(c, index, term, TestStamps.at(stamp, index));
    Result r2 = replica.apply(c, index, term, TestStamps.at(stamp, index));
    check(r.equals(r2), "R8: replicas answered differently: " + r + " vs " + r2);
    if (rebuilt != null) {
      Result r3 = rebuilt.apply(c, index, term, TestStamps.at(stamp, index));
      check(r.equals(r3), "R8: the rebuilt replica answered differently: " + r + " vs " + r3);
    }
    check(r.getCode() != Code.INTERNAL, "R8: " + r.getMessage());
    if (!TRACE.isEmpty() && (c.toString().contains("\"" + TRACE + "\"") || c.hasTick())) {
      System.out.println("step " + step + " index " + index + " t=" + stamp + " (" + action + ")\n" + c + "=> "
          + r.getCode() + " " + r.getMessage() + " " + (r.hasHeartbeat() ? r.getHeartbeat() : r.hasTick() ? r.getTick() : ""));
    }
    oracle.observe(c, r, index);
    if (r.getCode() == Code.OK && c.hasHeartbeat()) {
      heardUntil.merge(c.getHeartbeat().getGroup() + "/" + c.getHeartbeat().getConsumerId(),
          realMs + r.getHeartbeat().getSessionTimeoutMs(), Math::max);
    }
    if (r.getCode() == Code.OK) {
      switch (c.getBodyCase()) {
        case CREATE_TOPIC, SPLIT_PARTITION, MERGE_PARTITIONS, DELETE_TOPIC -> refreshTopics();
        default -> { }
      }
    }
    return r;
  }

  void tick() {
    Result r = append(Command.newBuilder().setTick(Tick.newBuilder().addAllRenewals(renewals.values())).build());
    renewals.clear();
    check(r.getCode() == Code.OK, "tick: " + r);
    stats.merge("expired", r.getTick().getExpiredCount(), Integer::sum);
    checkExpiry();
  }

  /**
   * R6, R7: expiry follows real time. A member silent for its session timeout — counted in real
   * time from its last heartbeat, or from the start of the term (which pushes deadlines) — is gone
   * after a tick; a leader whose stamps froze or crawled would keep it.
   */
  void checkExpiry() {
    for (String g : groups.keySet()) {
      GroupView v = describe(g);
      for (var m : v.getMembersList()) {
        Long until = heardUntil.get(g + "/" + m.getConsumerId());
        if (until == null) {
          continue;
        }
        long limit = Math.max(until, pushedUntil.getOrDefault(g, 0L));
        check(realMs <= limit, "R7: " + g + "/" + m.getConsumerId() + " should have expired " + (realMs - limit)
            + " ms ago in real time (its heartbeats and the term start say so), yet a tick kept it"
);
      }
    }
  }

  void newLeader() {
    // The old leader's renewals are lost with it (the new term's push covers them, R6); it keeps
    // running on its last state for a while, cut off from the majority.
    renewals.clear();
    deposed = Coordinator.rebuild(CoordinatorTestContext.records(primary).iterator(), LIMITS);
    deposedUntilRealMs = realMs + rnd.nextInt(8_000);
    term++;
    wallOffsetMs = rnd.nextInt(40_001) - 20_000; // another machine: its wall clock is off either way
    monoOffsetNs = rnd.nextLong() >>> 4;
    leader.lead(term, primary.nowMs(), wallMs(), monoNs());
    for (String g : groups.keySet()) {
      pushedUntil.merge(g, realMs + describe(g).getSummary().getSessionTimeoutMs(), Math::max);
    }
  }

  /**
   * A quiet heartbeat (step 11), as the leader's query answers it: from its state, with no log
   * entry, the liveness kept for the next tick. Now and then it reaches the deposed leader instead,
   * which must refuse it (it has not heard from a majority since the election): while it still takes
   * itself for the leader it asks for a retry (RETRY_LATER). Null: lost.
   */
  Result quiet(io.cohort.statemachine.proto.Heartbeat hb) {
    if (!quiet && rnd.nextInt(100) < 3) {
      stats.merge("lost quiet heartbeats", 1, Integer::sum);
      return null;
    }
    if (!quiet && deposed != null && realMs < deposedUntilRealMs && rnd.nextInt(3) == 0) {
      stats.merge("quiet heartbeats to a deposed leader", 1, Integer::sum);
      if (!deposedLeaderIsFresh()) {
        return Result.newBuilder().setCode(Code.RETRY_LATER).setMessage("retry after 200 ms: not a fresh leader").build();
      }
      return deposed.quietHeartbeat(hb, Principals.INTERNAL, deposed.nowMs()); // its renewals die with it
    }
    long at = leader.stampMs(monoNs());
    Result r = primary.quietHeartbeat(hb, Principals.INTERNAL, at);
    stats.merge("quiet heartbeats " + r.getCode(), 1, Integer::sum);
    if (r.getCode() == Code.OK) {
      String key = hb.getGroup() + "/" + hb.getConsumerId();
      renewals.remove(key);
      renewals.put(key, io.cohort.statemachine.proto.Renewal.newBuilder().setGroup(hb.getGroup())
          .setConsumerId(hb.getConsumerId()).setSessionToken(hb.getSessionToken()).setSeenAtMs(at)
          .setSessionTimeoutMs(r.getHeartbeat().getSessionTimeoutMs()).build());
      heardUntil.merge(key, realMs + r.getHeartbeat().getSessionTimeoutMs(), Math::max);
    }
    return r;
  }

  /** The leader's freshness check (LeaderFreshness): a deposed leader has not heard from a majority. */
  boolean deposedLeaderIsFresh() {
    return false;
  }

  void setUp() {
    createTopic("t0", 4 + rnd.nextInt(12));
    createTopic("t1", 2 + rnd.nextInt(6));
    createTopic("t2", 1 + rnd.nextInt(4));
    createGroup("g0", false, 3_000, "t0", "t1");
    createGroup("g1", true, 2_000, "t0", "t2");
  }

  Result createTopic(String name, int partitions) {
    return append(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(name)
        .setPartitions(partitions)).build());
  }

  void createGroup(String name, boolean order, long sessionMs, String... topicNames) {
    Result r = append(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(name).setOrder(order)
        .addAllTopics(List.of(topicNames)).setSessionTimeoutMs(sessionMs).setHeartbeatIntervalMs(sessionMs / 4)
        .setReleaseTimeoutMs(rnd.nextBoolean() ? 0 : sessionMs + rnd.nextInt(3_000))
        .setInitialRebalanceDelayMs(initialRebalanceDelayMs())).build());
    if (r.getCode() == Code.OK) {
      groups.put(name, order);
      activeIds.put(name, 2 + rnd.nextInt(6));
    }
  }

  void refreshTopics() {
    topics.clear();
    lineage.clear();
    for (var t : primary.query(Query.newBuilder().setListTopics(
        io.cohort.statemachine.proto.ListTopics.getDefaultInstance()).build(), Principals.INTERNAL).getTopics().getTopicsList()) {
      topics.put(t.getTopic(), t.getPartitionsList());
      Map<Integer, int[]> parents = new HashMap<>();
      for (PartitionView p : t.getPartitionsList()) {
        parents.put(p.getPartition(), p.getParentsList().stream().mapToInt(Integer::intValue).toArray());
      }
      lineage.put(t.getTopic(), parents);
    }
  }

  GroupView describe(String group) {
    var q = primary.query(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(group)).build(), Principals.INTERNAL);
    return q.getCode() == Code.OK ? q.getGroup() : null;
  }

  <T> T pick(List<T> items) {
    return items.get(rnd.nextInt(items.size()));
  }

  // ------------------------------------------------------------------ invariants

  void checkStep() {
    Map<String, SimProcess> readers = new HashMap<>();
    for (SimProcess p : processes) {
      for (String key : p.grants.keySet()) {
        if (p.reads(key, realMs)) {
          SimProcess other = readers.put(p.group + "/" + key, p);
          check(other == null, "R2: two readers of " + p.group + "/" + key + ": " + other + " and " + p
              + ", each within its own session");
        }
      }
    }
    for (var e : readers.entrySet()) {
      String[] parts = e.getKey().split("/");
      if (groups.getOrDefault(parts[0], false)) {
        String ancestor = readAncestor(readers, parts[0], parts[1], Integer.parseInt(parts[2]));
        check(ancestor == null, "R5: " + e.getKey() + " is read by " + e.getValue() + " while its ancestor "
            + ancestor + " is read too");
      }
    }
    for (String g : groups.keySet()) {
      GroupView view = describe(g);
      check(view != null, "group " + g + " vanished");
      oracle.checkGroup(view);
    }
  }

  String readAncestor(Map<String, SimProcess> readers, String group, String topic, int partition) {
    for (int parent : lineage.getOrDefault(topic, Map.of()).getOrDefault(partition, new int[0])) {
      String key = group + "/" + topic + "/" + parent;
      if (readers.containsKey(key)) {
        return key + " (by " + readers.get(key) + ")";
      }
      String up = readAncestor(readers, group, topic, parent);
      if (up != null) {
        return up;
      }
    }
    return null;
  }

  void checkReplicasAndCounts() {
    action = "replicas";
    byte[] a = CoordinatorTestContext.exportBytes(primary);
    check(Arrays.equals(a, CoordinatorTestContext.exportBytes(replica)), "R8: replicas' exports differ");
    if (rebuilt != null) {
      check(Arrays.equals(a, CoordinatorTestContext.exportBytes(rebuilt)),
          "R8: export, rebuild and apply the same commands differs from applying them");
    }
    var info = primary.query(Query.newBuilder().setClusterInfo(ClusterInfoQuery.getDefaultInstance()).build(), Principals.INTERNAL)
        .getClusterInfo();
    long slots = 0;
    long members = 0;
    for (String g : groups.keySet()) {
      GroupView v = describe(g);
      slots += v.getPartitionsCount();
      members += v.getMembersCount();
    }
    check(info.getSlots() == slots && info.getMembers() == members && info.getGroups() == groups.size(),
        "R9: cluster info counts " + info.getSlots() + " slots, " + info.getMembers() + " members, "
            + info.getGroups() + " groups; there are " + slots + ", " + members + ", " + groups.size());
    check(info.getSlots() <= LIMITS.maxSlots() && info.getMembers() <= LIMITS.maxMembers(), "R9: over a limit");
  }

  void fail(String what) {
    throw new AssertionError("seed " + seed + " step " + step + " (" + action + "): " + what);
  }

  void check(boolean ok, String what) {
    if (!ok) {
      fail(what);
    }
  }
}
