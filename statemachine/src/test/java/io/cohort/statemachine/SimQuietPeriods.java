package io.cohort.statemachine;

import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.PartitionStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@link Simulation}'s quiet periods: everyone honest until nothing moves, then R4 balance and stickiness. */
abstract class SimQuietPeriods extends SimConsumers {
  SimQuietPeriods(long seed) {
    super(seed);
  }

  // ------------------------------------------------------------------ quiet periods (R4)

  /** Everyone honest and connected (or gone) until nothing moves; then balance and stickiness. */
  void quietPeriod() {
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

  void round() {
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
  Map<String, String> settle() {
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
  Map<String, String> signature() {
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

  static String diff(Map<String, String> a, Map<String, String> b) {
    List<String> out = new ArrayList<>();
    for (String k : a.keySet()) {
      if (!a.get(k).equals(b.get(k))) {
        out.add(k + ": " + a.get(k) + " -> " + b.get(k));
      }
    }
    return out.toString();
  }

  void checkBalance(GroupView view) {
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
  void flashJoin() {
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

}
