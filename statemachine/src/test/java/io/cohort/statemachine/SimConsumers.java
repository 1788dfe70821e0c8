package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.Result;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;

/** What consumer processes ({@link SimProcess}) do in {@link Simulation}, and how they read the answers. */
abstract class SimConsumers extends SimAdmins {
  SimConsumers(long seed) {
    super(seed);
  }

  void processAction() {
    if (groups.isEmpty()) {
      return;
    }
    // Most of the time the process most in need of a heartbeat sends one, as a real one would.
    if (rnd.nextInt(10) < 6) {
      SimProcess due = null;
      for (SimProcess p : processes) {
        if (!p.done && p.connected && !p.session.isEmpty() && (due == null || p.lastOkSentOwnMs < due.lastOkSentOwnMs)) {
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

  SimProcess latest(String group, String consumer) {
    for (int i = processes.size() - 1; i >= 0; i--) {
      SimProcess p = processes.get(i);
      if (p.group.equals(group) && p.consumer.equals(consumer)) {
        return p;
      }
    }
    return null;
  }

  SimProcess newProcess(String group, String consumer) {
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

  void act(SimProcess p) {
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
    if (p.session.isEmpty() || roll < 68) {
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
  Result send(SimProcess p, Command c) {
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

  CheckpointEntry progress(SimProcess p, String key, boolean mayFinish) {
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

  void heartbeat(SimProcess p) {
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup(p.group).setConsumerId(p.consumer).setSessionToken(p.session);
    if (p.session.isEmpty()) {
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
    if (quietFits(p, hb)) {
      Result q = quiet(hb.build());
      if (q == null) {
        return; // lost: the next heartbeat goes as usual
      }
      if (q.getCode() != Code.NEEDS_WRITE) {
        answer(p, sent, q);
        return;
      }
      sent = new SimProcess.Sent(c, p.ownMs(realMs)); // through the log at once
    }
    Result r = send(p, c);
    if (r != null) {
      answer(p, sent, r);
    }
  }

  /** As the client decides (Exchange.quietFits): nothing to tell, nothing it was asked, the same grants. */
  static boolean quietFits(SimProcess p, Heartbeat.Builder hb) {
    HeartbeatResult last = p.lastAnswer;
    if (last == null || p.session.isEmpty() || !last.getSessionToken().equals(p.session) || hb.getCommitsCount() > 0
        || last.getReleaseCount() > 0 || last.getNextHeartbeatMs() <= Membership.HANDOFF_INTERVAL_MS
        || hb.getHeldCount() != last.getGrantsCount()) {
      return false;
    }
    java.util.Set<String> granted = new java.util.HashSet<>();
    last.getGrantsList().forEach(g -> granted.add(g.getTopic() + "/" + g.getPartition()));
    for (PartitionRef ref : hb.getHeldList()) {
      if (!granted.remove(ref.getTopic() + "/" + ref.getPartition())) {
        return false;
      }
    }
    return true;
  }

  void commit(SimProcess p) {
    CommitCheckpoints.Builder cc = CommitCheckpoints.newBuilder().setGroup(p.group).setConsumerId(p.consumer)
        .setSessionToken(p.session);
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
  void leave(SimProcess p) {
    Leave.Builder l = Leave.newBuilder().setGroup(p.group).setConsumerId(p.consumer).setSessionToken(p.session);
    for (String key : p.grants.keySet()) {
      if (l.getCommitsCount() < 8 && p.reads(key, realMs)) {
        l.addCommits(progress(p, key, true));
      }
    }
    p.stopAll();
    p.done = true;
    action += " leaves";
    if (!p.session.isEmpty()) {
      send(p, Command.newBuilder().setLeave(l).build());
    }
  }

  /** The client half of a takeover: fenced, it stopped its readers; now it leaves with its old session. */
  void owedLeave(SimProcess p) {
    action += " leaves after being fenced";
    Command c = p.owedLeave;
    p.owedLeave = null;
    p.done = true;
    Result r = send(p, c);
    if (r != null && r.getCode() == Code.OK) {
      stats.merge("replaced sessions left", 1, Integer::sum);
    }
  }

  void answer(SimProcess p, SimProcess.Sent sent, Result r) {
    Command c = sent.command();
    if (r.getCode() != Code.RETRY_LATER) { // a retry-after changed nothing: the next may still go quiet
      p.lastAnswer = r.getCode() == Code.OK && c.hasHeartbeat() ? r.getHeartbeat() : null;
    }
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
        if (!c.hasLeave() && !p.session.isEmpty() && sessionOf(c).equals(p.session)) {
          Leave.Builder l = Leave.newBuilder().setGroup(p.group).setConsumerId(p.consumer).setSessionToken(p.session);
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
        if (sessionOf(c).equals(p.session)) {
          p.stopAll();
          p.session = com.google.protobuf.ByteString.EMPTY; // expired: join again
        }
      }
      case NOT_FOUND -> {
        p.stopAll();
        p.done = true; // its group was deleted
      }
      case LIMIT_EXCEEDED -> check(c.hasHeartbeat() && c.getHeartbeat().getSessionToken().isEmpty(),
          "only a join may hit a limit: " + r.getMessage());
      case RETRY_LATER -> check(c.hasHeartbeat() && !c.getHeartbeat().getSessionToken().isEmpty(),
          "only a quiet heartbeat is asked to retry (a deposed leader's): " + r.getMessage()); // confirms nothing
      default -> fail("an honest process was refused: " + r.getCode() + " " + r.getMessage());
    }
  }

  static com.google.protobuf.ByteString sessionOf(Command c) {
    return switch (c.getBodyCase()) {
      case HEARTBEAT -> c.getHeartbeat().getSessionToken();
      case COMMIT_CHECKPOINTS -> c.getCommitCheckpoints().getSessionToken();
      case LEAVE -> c.getLeave().getSessionToken();
      default -> com.google.protobuf.ByteString.EMPTY;
    };
  }

  /** What a heartbeat's answer tells the process: its grants, what to release, when it last heard (R6). */
  void observe(SimProcess p, SimProcess.Sent sent, HeartbeatResult h) {
    if (!p.session.isEmpty() && !h.getSessionToken().equals(p.session)) {
      p.stopAll(); // the answer to an earlier join, sent again: a new session
    }
    p.session = h.getSessionToken();
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
  void startsReading(SimProcess p, String key) {
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

}
