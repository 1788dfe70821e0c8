package io.cohort.statemachine;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.ClusterInfoQuery;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.DescribeTopicQuery;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.Tick;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A seeded run of a whole cluster's life against the coordinator, checked after every step.
 *
 * <p>The leader stamps commands with a {@link LeaderClock} fed by a simulated wall clock that steps
 * back and forth (within a term and across terms, where each leader's clock differs) and by a
 * monotonic clock that follows real time. Consumer processes ({@link SimProcess}) judge their
 * sessions by their own drifting clocks; they lose answers, send commands again, crash, come back,
 * run twice with one consumer id (takeover), release promptly, slowly or never. Admins split,
 * merge, weigh, reset (one or many), create, change and delete groups and topics. Two replicas
 * apply in lockstep, a third rebuilt from an export joins now and then.
 *
 * <p>Invariants: never two readers of a partition by the processes' own view (R2); epochs never
 * decrease; in order=true groups a partition is read only once all its ancestors are finished,
 * and never beside one of them (R5); an acknowledged commit is never lost nor carries an epoch older
 * than the one in force (R3); replicas identical (R8); counts as ClusterInfo says (R9). In quiet
 * periods, with everyone honest: balance (R4), nothing moves while nothing changes, and a consumer
 * that joins and leaves before anyone heartbeats moves nothing (R4). A failure names its seed.
 */
final class Simulation {
  static final Limits LIMITS = Limits.DEFAULTS.with(LimitsRecord.newBuilder().setMaxTopics(8)
      .setMaxPartitionsPerTopic(100).setMaxGroups(6).setMaxTopicsPerGroup(3).setMaxMembersPerGroup(24)
      .setMaxMembers(50).setMaxEntriesPerCommand(8).setMaxCursorBytes(12).setMaxSlots(420)
      .setMaxHeldPerHeartbeat(200).build());
  private static final int MAX_IDS = 20;

  /** -Dsim.trace=GROUP prints every command touching that group, with its answer (to debug a replay). */
  private static final String TRACE = System.getProperty("sim.trace", "");

  private final long seed;
  private final Random rnd;
  private final Coordinator primary = new Coordinator(LIMITS);
  private final Coordinator replica = new Coordinator(LIMITS);
  private Coordinator rebuilt;
  private long index;
  private long term = 1;
  private long realMs = 1_000_000;
  private long wallOffsetMs;
  private long monoOffsetNs;
  private final LeaderClock leader = new LeaderClock();
  private int step;
  private String action = "setup";
  private boolean quiet;
  /** While checking that nothing moves: consumers make progress but read nothing to its end. */
  private boolean still;

  private final List<SimProcess> processes = new ArrayList<>();
  private int nextProcessId;
  private final SimOracle oracle = new SimOracle(this::fail);
  /** Live groups -> order flag. */
  private final Map<String, Boolean> groups = new TreeMap<>();
  /** Per group: how many consumer ids are in use now. */
  private final Map<String, Integer> activeIds = new HashMap<>();
  /** topic -> partition -> parents. */
  private final Map<String, Map<Integer, int[]>> lineage = new TreeMap<>();
  private final Map<String, List<PartitionView>> topics = new TreeMap<>();
  /**
   * "group/consumer" -> the latest real time its session can last: over all its applied heartbeats,
   * the heartbeat's time plus the session timeout it was told (a replaced session keeps its own).
   */
  private final Map<String, Long> heardUntil = new HashMap<>();
  /** group -> until when (real time) a term's start pushed its members' deadlines (R6), the latest. */
  private final Map<String, Long> pushedUntil = new HashMap<>();
  private int dynamicSeq;
  private long cursorSeq;
  final Map<String, Integer> stats = new TreeMap<>();

  Simulation(long seed) {
    this.seed = seed;
    this.rnd = new Random(seed);
  }

  void run(int steps) {
    leader.lead(term, 0, wallMs(), monoNs());
    setUp();
    int rebuildAt = 10 + rnd.nextInt(60);
    for (step = 0; step < steps; step++) {
      if (step == rebuildAt) {
        rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(primary).iterator(), LIMITS);
        rebuildAt += 60 + rnd.nextInt(120);
      }
      randomAction();
      checkStep();
      if (step % 50 == 49) {
        checkReplicasAndCounts();
      }
      if (step % 150 == 149) {
        quietPeriod();
      }
    }
    quietPeriod();
    checkReplicasAndCounts();
  }

  // ------------------------------------------------------------------ the cluster

  private long monoNs() {
    return realMs * 1_000_000L + monoOffsetNs;
  }

  private long wallMs() {
    return realMs + wallOffsetMs;
  }

  /** As the leader does: refuse before the log what validation refuses; else stamp and apply everywhere. */
  private Result append(Command c) {
    Result refused = Coordinator.validate(c, c.getSerializedSize(), primary.limits());
    if (refused != null) {
      return refused;
    }
    long stamp = leader.stampMs(monoNs());
    index++;
    Result r = primary.apply(c, index, term, stamp);
    Result r2 = replica.apply(c, index, term, stamp);
    check(r.equals(r2), "R8: replicas answered differently: " + r + " vs " + r2);
    if (rebuilt != null) {
      Result r3 = rebuilt.apply(c, index, term, stamp);
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

  private void tick() {
    Result r = append(Command.newBuilder().setTick(Tick.getDefaultInstance()).build());
    check(r.getCode() == Code.OK, "tick: " + r);
    stats.merge("expired", r.getTick().getExpiredCount(), Integer::sum);
    checkExpiry();
  }

  /**
   * R6, R7: expiry follows real time. A member silent for its session timeout — counted in real
   * time from its last heartbeat, or from the start of the term (which pushes deadlines) — is gone
   * after a tick; a leader whose stamps froze or crawled would keep it.
   */
  private void checkExpiry() {
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

  private void newLeader() {
    term++;
    wallOffsetMs = rnd.nextInt(40_001) - 20_000; // another machine: its wall clock is off either way
    monoOffsetNs = rnd.nextLong() >>> 4;
    leader.lead(term, primary.nowMs(), wallMs(), monoNs());
    for (String g : groups.keySet()) {
      pushedUntil.merge(g, realMs + describe(g).getSummary().getSessionTimeoutMs(), Math::max);
    }
  }

  private void setUp() {
    createTopic("t0", 4 + rnd.nextInt(12));
    createTopic("t1", 2 + rnd.nextInt(6));
    createTopic("t2", 1 + rnd.nextInt(4));
    createGroup("g0", false, 3_000, "t0", "t1");
    createGroup("g1", true, 2_000, "t0", "t2");
  }

  private Result createTopic(String name, int partitions) {
    return append(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(name)
        .setPartitions(partitions)).build());
  }

  private void createGroup(String name, boolean order, long sessionMs, String... topicNames) {
    Result r = append(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(name).setOrder(order)
        .addAllTopics(List.of(topicNames)).setSessionTimeoutMs(sessionMs).setHeartbeatIntervalMs(sessionMs / 4)
        .setReleaseTimeoutMs(rnd.nextBoolean() ? 0 : sessionMs + rnd.nextInt(3_000))).build());
    if (r.getCode() == Code.OK) {
      groups.put(name, order);
      activeIds.put(name, 2 + rnd.nextInt(6));
    }
  }

  private void refreshTopics() {
    topics.clear();
    lineage.clear();
    for (var t : primary.query(Query.newBuilder().setListTopics(
        io.cohort.statemachine.proto.ListTopics.getDefaultInstance()).build()).getTopics().getTopicsList()) {
      topics.put(t.getTopic(), t.getPartitionsList());
      Map<Integer, int[]> parents = new HashMap<>();
      for (PartitionView p : t.getPartitionsList()) {
        parents.put(p.getPartition(), p.getParentsList().stream().mapToInt(Integer::intValue).toArray());
      }
      lineage.put(t.getTopic(), parents);
    }
  }

  private GroupView describe(String group) {
    var q = primary.query(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(group)).build());
    return q.getCode() == Code.OK ? q.getGroup() : null;
  }

  // ------------------------------------------------------------------ what happens

  private <T> T pick(List<T> items) {
    return items.get(rnd.nextInt(items.size()));
  }

  private void randomAction() {
    int roll = rnd.nextInt(1000);
    action = "roll " + roll;
    if (roll < 520) {
      processAction();
    } else if (roll < 800) {
      realMs += 20 + rnd.nextInt(300);
      tick();
    } else if (roll < 825) {
      realMs += 1_000 + rnd.nextInt(5_000); // everyone stalls: sessions run out
      tick();
    } else if (roll < 845) {
      action += " new leader";
      newLeader();
      tick();
    } else if (roll < 865) {
      action += " wall clock step";
      wallOffsetMs += rnd.nextInt(60_001) - 30_000; // NTP or an operator, within the term
    } else if (roll < 890) {
      split();
    } else if (roll < 905) {
      merge();
    } else if (roll < 915) {
      weight();
    } else if (roll < 935) {
      reset();
    } else if (roll < 950) {
      resetMany();
    } else if (roll < 962) {
      updateGroup();
    } else if (roll < 985) {
      dynamicGroup();
    } else if (roll < 995) {
      garbage();
    } else {
      String g = pick(new ArrayList<>(groups.keySet()));
      activeIds.put(g, 1 + rnd.nextInt(MAX_IDS)); // more or fewer consumers from now on
    }
  }

  private void processAction() {
    if (groups.isEmpty()) {
      return;
    }
    // Most of the time the process most in need of a heartbeat sends one, as a real one would.
    if (rnd.nextInt(10) < 6) {
      SimProcess due = null;
      for (SimProcess p : processes) {
        if (!p.done && p.connected && p.session != 0 && (due == null || p.lastOkSentOwnMs < due.lastOkSentOwnMs)) {
          due = p;
        }
      }
      if (due != null) {
        act(due);
        return;
      }
    }
    String group = pick(new ArrayList<>(groups.keySet()));
    String consumer = String.format("c%02d", rnd.nextInt(activeIds.getOrDefault(group, 3)));
    SimProcess p = latest(group, consumer);
    if (p == null || p.done || (rnd.nextInt(40) == 0)) {
      p = newProcess(group, consumer); // a new process, or a second one beside a live one (takeover)
      action += " start " + p;
      stats.merge("started", 1, Integer::sum);
    }
    act(p);
  }

  private SimProcess latest(String group, String consumer) {
    for (int i = processes.size() - 1; i >= 0; i--) {
      SimProcess p = processes.get(i);
      if (p.group.equals(group) && p.consumer.equals(consumer)) {
        return p;
      }
    }
    return null;
  }

  private SimProcess newProcess(String group, String consumer) {
    SimProcess.Release release = switch (rnd.nextInt(10)) {
      case 0 -> SimProcess.Release.STUBBORN;
      case 1, 2 -> SimProcess.Release.SLOW;
      default -> SimProcess.Release.PROMPT;
    };
    SimProcess p = new SimProcess(nextProcessId++, group, consumer, (rnd.nextInt(21) - 10) / 1000.0,
        rnd.nextInt(1_000_000), release);
    processes.add(p);
    if (processes.size() > 120) {
      processes.removeIf(q -> q.done || (!q.connected && !q.trustsSession(realMs)));
    }
    return p;
  }

  private void act(SimProcess p) {
    action += " " + p;
    if (!p.connected) {
      if (rnd.nextInt(3) == 0) {
        p.connected = true; // back from a pause or a partition
        action += " reconnects";
      }
      return;
    }
    if (p.owedLeave != null) {
      owedLeave(p);
      return;
    }
    if (p.unanswered != null && rnd.nextBoolean()) {
      action += " sends again";
      stats.merge("retries", 1, Integer::sum);
      Command again = p.unanswered;
      SimProcess.Sent sent = new SimProcess.Sent(again, p.ownMs(realMs));
      Result r = send(p, again);
      if (r != null) {
        answer(p, sent, r);
      }
      return;
    }
    int roll = rnd.nextInt(100);
    if (p.session == 0 || roll < 68) {
      heartbeat(p);
    } else if (roll < 86) {
      commit(p);
    } else if (roll < 89) {
      leave(p);
    } else if (roll < 93) {
      // Restarted (static membership): the old process is cut off, maybe still reading; a new one joins.
      p.connected = rnd.nextInt(3) == 0; // or the old one was not dead at all
      SimProcess next = newProcess(p.group, p.consumer);
      action += " restarts as " + next;
      stats.merge("restarts", 1, Integer::sum);
      heartbeat(next);
    } else {
      p.connected = false; // crashed, paused or cut off: reads on until its own deadline
      action += " is cut off";
    }
  }

  /** Delivers a command; null when the answer is lost (the command may or may not have been applied). */
  private Result send(SimProcess p, Command c) {
    int roll = quiet ? 100 : rnd.nextInt(100);
    if (roll < 3) {
      p.unanswered = c;
      stats.merge("lost requests", 1, Integer::sum);
      return null;
    }
    Result r = append(c);
    if (roll < 10) {
      p.unanswered = c;
      stats.merge("lost answers", 1, Integer::sum);
      return null;
    }
    p.unanswered = null;
    return r;
  }

  private CheckpointEntry progress(SimProcess p, String key, boolean mayFinish) {
    Grant g = p.grants.get(key);
    boolean finished = mayFinish && !still && g.getState() == PartitionState.SEALED && rnd.nextInt(3) == 0;
    CheckpointEntry.Builder e = CheckpointEntry.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition())
        .setEpoch(g.getEpoch()).setCursor("c" + (++cursorSeq)).setFinished(finished);
    if (rnd.nextBoolean()) {
      e.setLag(rnd.nextInt(1000)).setLagMs(rnd.nextInt(5000));
    }
    if (finished) {
      p.finishedSent.add(key); // read to its end: this reader is done
    }
    return e.build();
  }

  private void heartbeat(SimProcess p) {
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(p.group).setConsumerId(p.consumer).setSession(p.session);
    if (p.session == 0) {
      p.stopAll();
    }
    int commits = 0;
    for (String key : new ArrayList<>(p.grants.keySet())) {
      Integer wait = p.releasing.get(key);
      boolean omit = wait != null && p.release != SimProcess.Release.STUBBORN && wait <= 0;
      if (wait != null && !omit && p.release == SimProcess.Release.SLOW) {
        p.releasing.put(key, wait - 1);
      }
      if (omit) {
        if (commits < 8 && rnd.nextBoolean()) {
          hb.addCommits(progress(p, key, false)); // its last checkpoint, then it omits the partition (R2)
          commits++;
        }
        p.grants.remove(key);
        p.releasing.remove(key);
        continue;
      }
      Grant g = p.grants.get(key);
      hb.addHeld(PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()));
      if (commits < 8 && p.reads(key, realMs) && rnd.nextInt(3) == 0) {
        hb.addCommits(progress(p, key, true));
        commits++;
      }
    }
    Command c = Command.newBuilder().setHeartbeat(hb).build();
    SimProcess.Sent sent = new SimProcess.Sent(c, p.ownMs(realMs));
    Result r = send(p, c);
    if (r != null) {
      answer(p, sent, r);
    }
  }

  private void commit(SimProcess p) {
    CommitCheckpoints.Builder cc = CommitCheckpoints.newBuilder().setGroup(p.group).setConsumerId(p.consumer)
        .setSession(p.session);
    for (String key : p.grants.keySet()) {
      if (cc.getEntriesCount() < 8 && p.reads(key, realMs) && rnd.nextBoolean()) {
        cc.addEntries(progress(p, key, true));
      }
    }
    if (cc.getEntriesCount() == 0) {
      heartbeat(p);
      return;
    }
    Command c = Command.newBuilder().setCommitCheckpoints(cc).build();
    Result r = send(p, c);
    if (r != null) {
      answer(p, new SimProcess.Sent(c, p.ownMs(realMs)), r);
    }
  }

  /** R2: a consumer leaves only after its readers stopped; its last checkpoints go with the Leave. */
  private void leave(SimProcess p) {
    Leave.Builder l = Leave.newBuilder().setGroup(p.group).setConsumerId(p.consumer).setSession(p.session);
    for (String key : p.grants.keySet()) {
      if (l.getCommitsCount() < 8 && p.reads(key, realMs)) {
        l.addCommits(progress(p, key, true));
      }
    }
    p.stopAll();
    p.done = true;
    action += " leaves";
    if (p.session != 0) {
      send(p, Command.newBuilder().setLeave(l).build());
    }
  }

  /** The client half of a takeover: fenced, it stopped its readers; now it leaves with its old session. */
  private void owedLeave(SimProcess p) {
    action += " leaves after being fenced";
    Command c = p.owedLeave;
    p.owedLeave = null;
    p.done = true;
    Result r = send(p, c);
    if (r != null && r.getCode() == Code.OK) {
      stats.merge("replaced sessions left", 1, Integer::sum);
    }
  }

  private void answer(SimProcess p, SimProcess.Sent sent, Result r) {
    Command c = sent.command();
    switch (r.getCode()) {
      case OK -> {
        if (c.hasHeartbeat()) {
          observe(p, sent, r.getHeartbeat());
        } else if (c.hasCommitCheckpoints()) {
          var entries = c.getCommitCheckpoints().getEntriesList();
          for (int i = 0; i < entries.size(); i++) {
            if (r.getCommit().getCodes(i) == Code.FENCED) {
              p.grants.remove(entries.get(i).getTopic() + "/" + entries.get(i).getPartition()); // lost it
            }
          }
        }
      }
      case FENCED -> {
        // A newer process took over: stop reading, then leave with the old session and final commits.
        if (!c.hasLeave() && p.session != 0 && sessionOf(c) == p.session) {
          Leave.Builder l = Leave.newBuilder().setGroup(p.group).setConsumerId(p.consumer).setSession(p.session);
          for (String key : p.grants.keySet()) {
            if (l.getCommitsCount() < 8 && p.reads(key, realMs)) {
              l.addCommits(progress(p, key, true));
            }
          }
          p.stopAll();
          p.fenced = true;
          p.owedLeave = Command.newBuilder().setLeave(l).build();
          stats.merge("fenced sessions", 1, Integer::sum);
        }
      }
      case UNKNOWN_MEMBER -> {
        if (sessionOf(c) == p.session) {
          p.stopAll();
          p.session = 0; // expired: join again
        }
      }
      case NOT_FOUND -> {
        p.stopAll();
        p.done = true; // its group was deleted
      }
      case LIMIT_EXCEEDED -> check(c.hasHeartbeat() && c.getHeartbeat().getSession() == 0,
          "only a join may hit a limit: " + r.getMessage());
      default -> fail("an honest process was refused: " + r.getCode() + " " + r.getMessage());
    }
  }

  private static long sessionOf(Command c) {
    return switch (c.getBodyCase()) {
      case HEARTBEAT -> c.getHeartbeat().getSession();
      case COMMIT_CHECKPOINTS -> c.getCommitCheckpoints().getSession();
      case LEAVE -> c.getLeave().getSession();
      default -> -1;
    };
  }

  /** What a heartbeat's answer tells the process: its grants, what to release, when it last heard (R6). */
  private void observe(SimProcess p, SimProcess.Sent sent, HeartbeatResult h) {
    if (p.session != 0 && h.getSession() != p.session) {
      p.stopAll(); // the answer to an earlier join, sent again: a new session
    }
    p.session = h.getSession();
    p.lastOkSentOwnMs = Math.max(p.lastOkSentOwnMs, sent.ownMs());
    p.sessionTimeoutMs = h.getSessionTimeoutMs();
    java.util.Set<String> told = new java.util.TreeSet<>();
    h.getReleaseList().forEach(ref -> told.add(ref.getTopic() + "/" + ref.getPartition()));
    Map<String, Grant> now = new TreeMap<>();
    for (Grant g : h.getGrantsList()) {
      String key = g.getTopic() + "/" + g.getPartition();
      Grant known = p.grants.get(key);
      if (known == null || known.getEpoch() != g.getEpoch()) {
        p.releasing.remove(key);
        p.finishedSent.remove(key);
        if (!told.contains(key)) {
          startsReading(p, key);
        }
      }
      now.put(key, g);
    }
    p.grants.clear();
    p.grants.putAll(now);
    p.releasing.keySet().removeIf(k -> !now.containsKey(k) || !told.contains(k)); // a cancelled move: read on
    p.finishedSent.retainAll(now.keySet());
    for (String key : told) {
      if (now.containsKey(key)) {
        p.releasing.putIfAbsent(key, p.release == SimProcess.Release.SLOW ? 1 + rnd.nextInt(3) : 0);
      }
    }
  }

  /** R5: an order=true group's partition is read only when every ancestor is finished. */
  private void startsReading(SimProcess p, String key) {
    stats.merge("grants", 1, Integer::sum);
    if (!groups.getOrDefault(p.group, false)) {
      return;
    }
    GroupView view = describe(p.group);
    String topic = key.substring(0, key.indexOf('/'));
    int partition = Integer.parseInt(key.substring(key.indexOf('/') + 1));
    String why = SimOracle.unfinishedAncestor(SimOracle.byTopic(view).get(topic),
        lineage.getOrDefault(topic, Map.of()), partition);
    check(why == null, "R5: " + p + " starts reading " + p.group + "/" + key + " though ancestor " + why);
  }

  // ------------------------------------------------------------------ admins

  private String anyTopic() {
    return topics.isEmpty() ? "t0" : pick(new ArrayList<>(topics.keySet()));
  }

  private List<Integer> active(String topic) {
    List<Integer> out = new ArrayList<>();
    for (PartitionView p : topics.getOrDefault(topic, List.of())) {
      if (p.getState() == PartitionState.ACTIVE) {
        out.add(p.getPartition());
      }
    }
    return out;
  }

  private void split() {
    String topic = anyTopic();
    List<Integer> active = active(topic);
    if (active.isEmpty()) {
      return;
    }
    SplitPartition.Builder s = SplitPartition.newBuilder().setTopic(topic).setPartition(pick(active));
    if (rnd.nextBoolean()) {
      s.setEndCursor("end");
    }
    action += " split " + topic + "/" + s.getPartition();
    stats.merge("splits " + append(Command.newBuilder().setSplitPartition(s).build()).getCode(), 1, Integer::sum);
  }

  private void merge() {
    String topic = anyTopic();
    List<PartitionView> parts = topics.getOrDefault(topic, List.of());
    List<PartitionView> active = parts.stream().filter(p -> p.getState() == PartitionState.ACTIVE).toList();
    for (int tries = 0; tries < 5 && active.size() > 1; tries++) {
      PartitionView a = pick(active);
      PartitionView b = pick(active);
      if (a != b && (a.getRangeEnd().equals(b.getRangeBegin()) || b.getRangeEnd().equals(a.getRangeBegin()))) {
        action += " merge " + topic + "/" + a.getPartition() + "+" + b.getPartition();
        stats.merge("merges", 1, Integer::sum);
        append(Command.newBuilder().setMergePartitions(MergePartitions.newBuilder().setTopic(topic)
            .setPartition1(a.getPartition()).setPartition2(b.getPartition())).build());
        return;
      }
    }
  }

  private void weight() {
    String topic = anyTopic();
    int n = topics.getOrDefault(topic, List.of()).size();
    if (n > 0) {
      double[] weights = {0.5, 1, 1, 2, 3};
      append(Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic(topic).setPartition(rnd.nextInt(n))
          .setWeight(weights[rnd.nextInt(weights.length)])).build());
    }
  }

  private String[] groupPartition() {
    String group = pick(new ArrayList<>(groups.keySet()));
    GroupView view = describe(group);
    if (view == null || view.getPartitionsCount() == 0) {
      return null;
    }
    GroupPartitionView p = pick(view.getPartitionsList());
    return new String[] {group, p.getTopic(), Integer.toString(p.getPartition())};
  }

  private void reset() {
    String[] gp = groupPartition();
    if (gp != null) {
      action += " reset " + String.join("/", gp);
      Result r = append(Command.newBuilder().setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(gp[0])
          .setTopic(gp[1]).setPartition(Integer.parseInt(gp[2])).setCursor("r" + (++cursorSeq))).build());
      stats.merge("resets " + r.getCode(), 1, Integer::sum);
    }
  }

  private void resetMany() {
    String group = pick(new ArrayList<>(groups.keySet()));
    GroupView view = describe(group);
    if (view == null || view.getPartitionsCount() == 0) {
      return;
    }
    ResetCheckpoints.Builder r = ResetCheckpoints.newBuilder().setGroup(group);
    java.util.Set<String> named = new java.util.HashSet<>();
    for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
      GroupPartitionView p = pick(view.getPartitionsList());
      if (!named.add(p.getTopic() + "/" + p.getPartition())) {
        continue;
      }
      CheckpointReset.Builder e = CheckpointReset.newBuilder().setTopic(p.getTopic()).setPartition(p.getPartition());
      switch (rnd.nextInt(3)) {
        case 0 -> e.setCursor("r" + (++cursorSeq));
        case 1 -> e.setDelete(true);
        default -> e.setToEnd(true);
      }
      r.addEntries(e);
    }
    action += " bulk reset in " + group;
    stats.merge("bulk resets", 1, Integer::sum);
    append(Command.newBuilder().setResetCheckpoints(r).build());
  }

  private void updateGroup() {
    String group = pick(new ArrayList<>(groups.keySet()));
    long session = 1_000 + rnd.nextInt(4) * 1_000;
    UpdateGroup.Builder u = UpdateGroup.newBuilder().setGroup(group).setSessionTimeoutMs(session)
        .setHeartbeatIntervalMs(session / 4).setReleaseTimeoutMs(rnd.nextBoolean() ? 0 : session + rnd.nextInt(2_000));
    if (rnd.nextInt(4) == 0) {
      u.addAddTopics(anyTopic());
    }
    action += " update " + group + " session " + session;
    append(Command.newBuilder().setUpdateGroup(u).build());
  }

  /** Topics and groups that come and go; a deleted group's name is never used again. */
  private void dynamicGroup() {
    List<String> dynamic = groups.keySet().stream().filter(g -> g.startsWith("d")).toList();
    int roll = rnd.nextInt(4);
    if (roll == 0 || dynamic.isEmpty()) {
      String topic = "x" + (++dynamicSeq);
      if (createTopic(topic, 1 + rnd.nextInt(6)).getCode() == Code.OK) {
        createGroup("d" + dynamicSeq, rnd.nextBoolean(), 1_000 + rnd.nextInt(3) * 1_000, topic);
        action += " new group d" + dynamicSeq;
      }
    } else {
      String g = pick(dynamic);
      boolean force = rnd.nextBoolean();
      Result r = append(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup(g).setForce(force)).build());
      action += " delete group " + g + " " + r.getCode();
      if (r.getCode() == Code.OK) {
        groups.remove(g);
        stats.merge("groups deleted", 1, Integer::sum);
        for (String topic : new ArrayList<>(topics.keySet())) {
          if (topic.startsWith("x")) {
            append(Command.newBuilder().setDeleteTopic(DeleteTopic.newBuilder().setTopic(topic)).build());
          }
        }
      }
    }
  }

  private void garbage() {
    byte[] junk = new byte[1 + rnd.nextInt(20)];
    rnd.nextBytes(junk);
    byte[] entry = rnd.nextBoolean() ? junk
        : LogEntry.newBuilder().setTimeMs(wallMs()).setCommand(ByteString.copyFrom(junk)).build().toByteArray();
    index++;
    Result r = primary.applyLogEntry(entry, index, term);
    check(r.equals(replica.applyLogEntry(entry, index, term)), "R8: replicas disagree on junk");
    if (rebuilt != null) {
      check(r.equals(rebuilt.applyLogEntry(entry, index, term)), "R8: the rebuilt replica disagrees on junk");
    }
    check(r.getCode() != Code.INTERNAL, "R8: " + r.getMessage());
  }

  // ------------------------------------------------------------------ invariants

  private void checkStep() {
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

  private String readAncestor(Map<String, SimProcess> readers, String group, String topic, int partition) {
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

  private void checkReplicasAndCounts() {
    action = "replicas";
    byte[] a = CoordinatorTestContext.exportBytes(primary);
    check(Arrays.equals(a, CoordinatorTestContext.exportBytes(replica)), "R8: replicas' exports differ");
    if (rebuilt != null) {
      check(Arrays.equals(a, CoordinatorTestContext.exportBytes(rebuilt)),
          "R8: export, rebuild and apply the same commands differs from applying them");
    }
    var info = primary.query(Query.newBuilder().setClusterInfo(ClusterInfoQuery.getDefaultInstance()).build())
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

  // ------------------------------------------------------------------ quiet periods (R4)

  /** Everyone honest and connected (or gone) until nothing moves; then balance and stickiness. */
  private void quietPeriod() {
    quiet = true;
    action = "quiet period";
    for (SimProcess p : processes) {
      p.release = SimProcess.Release.PROMPT;
      if (!p.connected && rnd.nextBoolean()) {
        p.connected = true;
      }
    }
    Map<String, String> before = settle();
    for (String g : groups.keySet()) {
      checkBalance(describe(g));
    }
    action = "quiet period: heartbeats that change nothing";
    still = true;
    for (int round = 0; round < 3; round++) {
      round();
    }
    check(before.equals(signature()), "R4: nothing changed, yet something moved: " + diff(before, signature()));
    flashJoin();
    still = false;
    quiet = false;
  }

  private void round() {
    realMs += 100;
    tick();
    for (SimProcess p : new ArrayList<>(processes)) {
      if (!p.done && p.connected) {
        if (p.owedLeave != null) {
          owedLeave(p);
        } else if (p.session != 0 || latest(p.group, p.consumer) == p) {
          heartbeat(p);
        }
      }
      checkStep();
    }
  }

  /** Rounds until a round changes nothing and nothing is in flight; returns the settled signature. */
  private Map<String, String> settle() {
    Map<String, String> last = signature();
    for (int round = 0; round < 120; round++) {
      round();
      Map<String, String> now = signature();
      if (now.equals(last) && !now.containsValue("busy")) {
        return now;
      }
      last = now;
    }
    fail("R4: the groups did not settle: " + last);
    return last;
  }

  /** Per group partition: holder and epoch; "busy" while anything is moving, unassigned or handed over. */
  private Map<String, String> signature() {
    Map<String, String> out = new TreeMap<>();
    for (SimProcess p : processes) {
      if (!p.done && p.connected && (p.owedLeave != null || (p.session == 0 && latest(p.group, p.consumer) == p))) {
        out.put(p.toString(), "busy"); // about to join or leave
      }
    }
    for (String g : groups.keySet()) {
      GroupView v = describe(g);
      boolean members = v.getMembersCount() > 0;
      for (var m : v.getMembersList()) {
        boolean kept = processes.stream().anyMatch(p -> !p.done && p.connected && p.group.equals(g)
            && p.consumer.equals(m.getConsumerId()) && p.session == m.getSession());
        if (m.getReplacedSession() != 0 || !kept) {
          out.put(g + "/" + m.getConsumerId(), "busy"); // a takeover pending, or a member about to expire
        }
      }
      for (GroupPartitionView p : v.getPartitionsList()) {
        boolean busy = p.getStatus() == PartitionStatus.RELEASING
            || (members && p.getStatus() == PartitionStatus.UNASSIGNED);
        out.put(g + "/" + p.getTopic() + "/" + p.getPartition(),
            busy ? "busy" : (p.hasHolder() ? p.getHolder() : "-") + "@" + p.getEpoch());
      }
    }
    return out;
  }

  private static String diff(Map<String, String> a, Map<String, String> b) {
    List<String> out = new ArrayList<>();
    for (String k : a.keySet()) {
      if (!a.get(k).equals(b.get(k))) {
        out.add(k + ": " + a.get(k) + " -> " + b.get(k));
      }
    }
    return out.toString();
  }

  private void checkBalance(GroupView view) {
    if (view.getMembersCount() == 0) {
      return;
    }
    Map<String, Double> load = new TreeMap<>();
    view.getMembersList().forEach(m -> load.put(m.getConsumerId(), 0.0));
    double maxWeight = 0;
    for (GroupPartitionView p : view.getPartitionsList()) {
      if (p.getStatus() == PartitionStatus.HELD) {
        load.merge(p.getHolder(), p.getWeight(), Double::sum);
        maxWeight = Math.max(maxWeight, p.getWeight());
      }
    }
    double spread = load.values().stream().mapToDouble(d -> d).max().orElse(0)
        - load.values().stream().mapToDouble(d -> d).min().orElse(0);
    check(spread <= maxWeight + 1e-9, "R4: " + view.getSummary().getGroup() + " loads " + load
        + " differ by more than the largest weight " + maxWeight);
  }

  /** R4: a consumer that joins and leaves before anyone heartbeats moves nothing. */
  private void flashJoin() {
    for (String g : groups.keySet()) {
      GroupView view = describe(g);
      if (view.getMembersCount() < 2) {
        continue;
      }
      action = "quiet period: flash join of " + g;
      Map<String, String> before = signature();
      SimProcess x = newProcess(g, "flash" + nextProcessId);
      heartbeat(x);
      if (x.session == 0) {
        x.done = true;
        continue; // a limit: nobody joined
      }
      leave(x);
      stats.merge("flash joins", 1, Integer::sum);
      check(before.equals(settle()), "R4: a consumer that joined and left at once moved partitions: "
          + diff(before, signature()));
      return;
    }
  }

  private void fail(String what) {
    throw new AssertionError("seed " + seed + " step " + step + " (" + action + "): " + what);
  }

  private void check(boolean ok, String what) {
    if (!ok) {
      fail(what);
    }
  }
}
