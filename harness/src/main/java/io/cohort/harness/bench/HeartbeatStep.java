package io.cohort.harness.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * One measured step of {@code cohort bench heartbeat} and issue 14's goals for it: a step holds
 * when its p99 is under the limit, at least {@value #SERVED_FRACTION} of the heartbeats due were
 * served and no session was lost; the highest step that held gives the sustainable rate R; at 1.5x
 * its consumers the cluster must still serve R with no session lost (no collapse).
 *
 * @param perS heartbeats answered OK per second (quiet or through the log)
 * @param duePerS heartbeats due per second (consumers / interval)
 * @param quiet of the heartbeats answered, how many off the log (quiet answers)
 * @param replicated ... and how many through the log (NEEDS_WRITE fall-backs, joins, handoffs, --quiet false)
 * @param rejoins session refusals the consumers got (expired or fenced: they joined again)
 * @param expiries ... of which UNKNOWN_MEMBER: the member had expired (a live consumer heartbeats
 *     every interval, so it hears of its expiry within about one interval)
 * @param shed heartbeats refused RETRY_LATER by an overloaded leader (retried, session kept)
 */
record HeartbeatStep(int consumers, long intervalMs, double perS, double duePerS, double p50Ms, double p99Ms,
    long quiet, long replicated, long fallbacks, long errors, long rejoins, long expiries, long shed,
    double serverCores, double loadCores) {
  static final double SERVED_FRACTION = 0.9;
  static final double P99_LIMIT_MS = 200;
  static final double OVERLOAD_FACTOR = 1.5;
  static final double RATIO_GOAL = 4;

  /** No consumer had to join again and no member expired. */
  boolean sessionsKept() {
    return rejoins == 0 && expiries == 0;
  }

  /** Sustainable: p99 under the limit, at least 90 % of the heartbeats due served, no session lost. */
  boolean held() {
    return p99Ms < P99_LIMIT_MS && perS >= SERVED_FRACTION * duePerS && sessionsKept();
  }

  /** The overload step did not collapse: it still served the sustainable rate and lost no session. */
  boolean noCollapse(double sustainablePerS) {
    return perS >= sustainablePerS && sessionsKept();
  }

  /** Share of the answered heartbeats that were quiet, NaN when none was answered. */
  double quietShare() {
    long n = quiet + replicated;
    return n == 0 ? Double.NaN : quiet / (double) n;
  }

  /** Why a step did not hold, e.g. "p99 350.0 ms >= 200; served 81% of due". */
  String whyNotHeld() {
    List<String> why = new ArrayList<>();
    if (!(p99Ms < P99_LIMIT_MS)) {
      why.add(String.format("p99 %.1f ms >= %.0f", p99Ms, P99_LIMIT_MS));
    }
    if (!(perS >= SERVED_FRACTION * duePerS)) {
      why.add(String.format("served %.0f%% of due", 100 * perS / duePerS));
    }
    if (rejoins > 0) {
      why.add(rejoins + " rejoins");
    }
    if (expiries > 0) {
      why.add(expiries + " expiries");
    }
    return String.join("; ", why);
  }

  /** {@code n} consumers rounded to whole groups (as asked below one group), at least one. */
  static int wholeGroups(double n, int groupSize) {
    return n < groupSize ? (int) Math.max(1, Math.round(n)) : (int) (Math.round(n / groupSize) * groupSize);
  }

  /** The overload step's consumers: 1.5x the sustainable count in whole groups, at least one more. */
  static int overloadConsumers(int sustainable, int groupSize) {
    return Math.max(sustainable + 1, wholeGroups(sustainable * OVERLOAD_FACTOR, groupSize));
  }

  /** R / the no-op ceiling, NaN when either is unknown. */
  static double ratio(double sustainablePerS, double ceilingPerS) {
    return sustainablePerS > 0 && ceilingPerS > 0 ? sustainablePerS / ceilingPerS : Double.NaN;
  }

  static boolean ratioMet(double ratio) {
    return ratio >= RATIO_GOAL; // false for NaN
  }
}
