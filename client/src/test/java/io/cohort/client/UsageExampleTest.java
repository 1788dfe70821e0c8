package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cohort.statemachine.proto.StartFrom;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** USAGE.md's deadline snippet, with the context it is given (the others run against a cluster). */
class UsageExampleTest {
  private static ProcessingContext context(boolean expired, boolean stopRequested) {
    PartitionGrant grant = new PartitionGrant(new PartitionId("clicks", 0), 4, "0", StartFrom.BEGIN, false, null);
    return new ProcessingContext() {
      @Override
      public PartitionGrant grant() {
        return grant;
      }

      @Override
      public String nextCursor() {
        return "2";
      }

      @Override
      public long deadlineNanos() {
        return System.nanoTime() + (expired ? -1_000_000 : 60_000_000_000L);
      }

      @Override
      public boolean stopRequested() {
        return stopRequested;
      }

      @Override
      public CompletableFuture<Void> acknowledge(String cursor) {
        return CompletableFuture.completedFuture(null);
      }
    };
  }

  @Test
  void theCarefulProcessorHandlesBeforeItsDeadlineAndGivesUpAfterIt() throws Exception {
    RecordProcessor<String> careful = UsageExample.careful();
    int before = UsageExample.App.HANDLED.size();
    careful.process(context(false, false), List.of("x", "y"));
    assertEquals(before + 2, UsageExample.App.HANDLED.size());
    assertThrows(IllegalStateException.class, () -> careful.process(context(true, false), List.of("z")));
    assertThrows(IllegalStateException.class, () -> careful.process(context(false, true), List.of("z")));
    assertThrows(UnsupportedOperationException.class, () -> careful.process(context(false, false).grant(), List.of()),
        "a context processor is never called without its context");
    assertEquals(before + 2, UsageExample.App.HANDLED.size());
  }

  @Test
  void thePoisonPolicyAndMetricsSnippetsBuildWhatTheySay() {
    List<ConsumerConfig> configs = UsageExample.poisonPolicies();
    assertEquals(PoisonPolicy.retry(), configs.get(0).poisonPolicy());
    assertEquals(PoisonPolicy.skipAfter(5), configs.get(1).poisonPolicy());
    assertEquals(PoisonPolicy.Action.STOP, configs.get(2).poisonPolicy().action());
    assertEquals(ConsumerMetrics.NONE, configs.get(0).metrics());
    assertEquals("PrometheusConsumerMetrics", UsageExample.withMetrics().metrics().getClass().getSimpleName());
  }
}
