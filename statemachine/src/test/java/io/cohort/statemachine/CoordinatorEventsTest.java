package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.entry;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.PartitionRef;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Step 9: the coordinator tells an observer of grants (with handoff durations) and release timeouts. */
class CoordinatorEventsTest {
  record Event(String kind, String partition, String consumer, long epoch, long handoffMs) {}

  static final class Recorder implements CoordinatorEvents {
    final List<Event> events = new ArrayList<>();

    @Override
    public void granted(String group, String topic, int partition, String consumer, long epoch, long handoffMs) {
      events.add(new Event("granted", topic + "/" + partition, consumer, epoch, handoffMs));
    }

    @Override
    public void releaseTimedOut(String group, String topic, int partition, String holder, long epoch) {
      events.add(new Event("timedOut", topic + "/" + partition, holder, epoch, -1));
    }

    List<Event> take() {
      List<Event> out = new ArrayList<>(events);
      events.clear();
      return out;
    }
  }

  private final Recorder recorder = new Recorder();

  private static PartitionRef ref(int partition) {
    return PartitionRef.newBuilder().setTopic("t").setPartition(partition).build();
  }

  private CoordinatorTestContext observed() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    ctx.coordinator.observe(recorder);
    return ctx;
  }

  @Test
  void R2_aFreshGrantHasNoHandoffAndAMoveIsTimedFromTheRequestToTheGrant() {
    CoordinatorTestContext ctx = observed().withTopic("t", 2).withGroup("g", "t").withMember("g", "A");
    List<Event> first = recorder.take();
    assertEquals(2, first.size());
    first.forEach(e -> assertEquals(-1, e.handoffMs(), e.toString()));
    ctx.heartbeat("g", "B"); // B joins: A is to release one partition
    ctx.advanceMs(300);
    ctx.heartbeat("g", "A"); // A is told
    assertEquals(List.of(), recorder.take(), "nothing granted while A still holds it (R2)");
    ctx.advanceMs(400);
    ctx.heartbeat("g", "A"); // A obeys: the partition goes to B at once
    List<Event> moved = recorder.take();
    assertEquals(1, moved.size(), moved.toString());
    assertEquals("B", moved.get(0).consumer());
    assertEquals(700, moved.get(0).handoffMs());
  }

  @Test
  void R2_aReleaseTimeoutIsReportedBeforeTheTargetsGrant() {
    CoordinatorTestContext ctx = observed().withTopic("t", 2)
        .withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(10_000).setReleaseTimeoutMs(20_000))
        .withMember("g", "A");
    recorder.take();
    ctx.heartbeat("g", "B");
    String moving = ctx.describe("g").getPartitionsList().stream().filter(p -> p.hasTarget()).findFirst()
        .orElseThrow().getPartition() + "";
    com.google.protobuf.ByteString session = ctx.consumer("g", "A").session;
    for (int i = 0; i < 21; i++) { // A heartbeats but never lets go
      ctx.advanceMs(1_000);
      ctx.apply(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("A")
          .setSessionToken(session).addHeld(ref(0)).addHeld(ref(1))));
      ctx.heartbeat("g", "B");
    }
    List<Event> events = recorder.take();
    assertEquals("timedOut", events.get(0).kind(), events.toString());
    assertEquals("A", events.get(0).consumer());
    assertEquals("t/" + moving, events.get(0).partition());
    assertEquals("granted", events.get(1).kind());
    assertEquals("B", events.get(1).consumer());
    assertTrue(events.get(1).handoffMs() > 20_000, events.toString());
  }

  @Test
  void R2_theEndOfATakeoverIsAGrantToTheNewSession() {
    CoordinatorTestContext ctx = observed().withTopic("t", 1).withGroup("g", "t").withMember("g", "A");
    recorder.take();
    CoordinatorTestContext.ConsumerView old = ctx.restart("g", "A");
    ctx.advanceMs(400);
    ok(ctx.leave(old, "g", "A")); // the old process let go
    List<Event> events = recorder.take();
    assertEquals(1, events.size(), events.toString());
    assertEquals(400, events.get(0).handoffMs());
    assertEquals(ctx.describe("g").getPartitions(0).getEpoch(), events.get(0).epoch());
  }

  @Test
  void R8_observingChangesNothing() {
    Consumer<CoordinatorTestContext> script = ctx -> {
      ctx.withTopic("t", 4).withGroup(CreateGroup.newBuilder().setGroup("g").addTopics("t").setReleaseTimeoutMs(12_000))
          .withMember("g", "A");
      ctx.heartbeat("g", "B");
      ctx.advanceMs(500);
      ctx.heartbeat("g", "A", entry("t", 0, ctx.grant("g", "A", "t", 0).getEpoch(), "3"));
      ctx.restart("g", "B");
      ctx.advanceMs(11_000);
      ctx.heartbeat("g", "B");
      ok(ctx.tick());
    };
    CoordinatorTestContext plain = new CoordinatorTestContext();
    CoordinatorTestContext watched = observed();
    script.accept(plain);
    script.accept(watched);
    assertTrue(!recorder.events.isEmpty());
    assertArrayEquals(plain.exportBytes(), watched.exportBytes());
  }
}
