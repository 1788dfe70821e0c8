package io.cohort.harness.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The verdict lines of {@code bench commit}: every pair must hold, and rounding must not hide a miss. */
class CommitReportTest {
  private static Map<String, Double> lowest(Object... keyThenRatio) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < keyThenRatio.length; i += 2) {
      m.put((String) keyThenRatio[i], (Double) keyThenRatio[i + 1]);
    }
    return m;
  }

  @Test
  void everyLevelAtOrOverTheGoalIsMet() {
    assertEquals("verdict levels: lowest Cohort/no-op over the pairs: 1 in flight 0.971, 16 in flight 1.012, "
            + "128 in flight 0.900 (goal >= 0.9 in every pair): MET",
        CommitReport.verdict("levels", lowest("1 in flight", 0.9714, "16 in flight", 1.0123, "128 in flight", 0.9),
            CommitReport.LEVEL_GOAL));
  }

  @Test
  void aRatioJustUnderTheGoalIsNotMetAndDoesNotPrintAsTheGoal() {
    // 1,851 / 2,327 ops/s: two decimals would print 0.80
    assertEquals("verdict ages: lowest Cohort/no-op over the pairs: age 60 s 0.795, age 120 s 0.900 "
            + "(goal >= 0.8 in every pair): NOT MET",
        CommitReport.verdict("ages", lowest("age 60 s", 1851.0 / 2327, "age 120 s", 0.9), CommitReport.AGE_GOAL));
  }

  @Test
  void theControlSaysWhatTheNoopAgainstItselfWouldHaveScored() {
    assertEquals("control ages: lowest no-op A/no-op B either way round over the pairs: age 60 s 0.750, age 120 s 0.900 "
            + "(Cohort's goal >= 0.8 in every pair): the no-op against itself would have NOT MET",
        CommitReport.control("ages", lowest("age 60 s", 0.75, "age 120 s", 0.9), CommitReport.AGE_GOAL));
  }

  @Test
  void anUnmeasuredAgeIsNotMet() {
    assertEquals("verdict ages: lowest Cohort/no-op over the pairs: age 60 s NaN (goal >= 0.8 in every pair): NOT MET",
        CommitReport.verdict("ages", lowest("age 60 s", Double.NaN), CommitReport.AGE_GOAL));
    assertEquals("verdict ages: lowest Cohort/no-op over the pairs: (goal >= 0.8 in every pair): NOT MET",
        CommitReport.verdict("ages", Map.of(), CommitReport.AGE_GOAL));
  }
}
