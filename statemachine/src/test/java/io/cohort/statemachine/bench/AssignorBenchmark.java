package io.cohort.statemachine.bench;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Result;
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
 * The cost of one assignor-heavy command (R4: at most ~50 ms at 10,000 partitions and 1,000
 * members): each invocation applies one command to a freshly rebuilt state (the rebuild is not
 * timed). See {@link AssignorScenario} for the operations. Run with
 * {@code scripts/bench-apply.sh AssignorBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 30)
@Measurement(iterations = 30)
@Fork(value = 1, jvmArgs = {"-Xmx2g", "-XX:+UseG1GC"})
public class AssignorBenchmark {
  @Param({"1000", "10000"})
  int partitions;
  @Param({"10", "100", "1000"})
  int members;
  @Param({"joinSecond", "join", "release", "leave", "expire", "split"})
  String op;

  private AssignorScenario scenario;
  private Coordinator coordinator;

  @Setup(Level.Trial)
  public void prepare() {
    scenario = AssignorScenario.of(op, partitions, members);
    Result r = scenario.run(scenario.fresh());
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException(op + " was refused: " + r.getMessage());
    }
  }

  @Setup(Level.Invocation)
  public void rebuild() {
    coordinator = scenario.fresh();
  }

  @Benchmark
  public Result apply() {
    return scenario.run(coordinator);
  }
}
