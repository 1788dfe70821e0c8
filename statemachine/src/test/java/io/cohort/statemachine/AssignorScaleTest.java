package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.bench.AssignorScenario;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.Result;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * R4 at DESIGN's size: every benchmarked command (see AssignorScenario) on 10,000 partitions and
 * 1,000 members does what it should — the owners it aims for (holders, or targets of moves) are
 * balanced — and takes well under a second even cold on a loaded machine (the old assignor took
 * minutes for the first of them; the benchmark measures the warm cost).
 */
class AssignorScaleTest {

  @ParameterizedTest
  @ValueSource(strings = {"joinSecond", "join", "release", "leave", "expire", "split"})
  void R4_oneCommandAtTenThousandPartitionsAndAThousandMembers(String op) {
    AssignorScenario scenario = AssignorScenario.of(op, 10_000, 1_000);
    Coordinator c = scenario.fresh();
    long start = System.nanoTime();
    Result r = scenario.run(c);
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    assertTrue(ms < 2_000, op + " took " + ms + " ms");
    GroupView view = c.query(Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder()
        .setGroup(AssignorScenario.GROUP)).build()).getGroup();
    Map<String, Integer> owned = new HashMap<>();
    view.getMembersList().forEach(m -> owned.put(m.getConsumerId(), 0));
    for (GroupPartitionView p : view.getPartitionsList()) {
      String owner = p.hasTarget() ? p.getTarget() : p.hasHolder() ? p.getHolder() : null;
      if (owner != null) {
        owned.merge(owner, 1, Integer::sum);
      } else {
        assertEquals(io.cohort.statemachine.proto.PartitionStatus.FINISHED, p.getStatus(), "unowned " + p);
      }
    }
    int min = owned.values().stream().mapToInt(i -> i).min().orElseThrow();
    int max = owned.values().stream().mapToInt(i -> i).max().orElseThrow();
    assertTrue(max - min <= 1, op + ": owned counts from " + min + " to " + max);
    System.out.printf("%s at 10,000 x 1,000: %d ms (cold)%n", op, ms);
  }
}
