package io.cohort.server.metrics;

import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Result;
import java.util.ArrayList;
import java.util.List;

/**
 * A consumer reduced to its heartbeat/commit calls over a {@link TestClient} (the real one lives in
 * module client): joins, heartbeats what it holds, and piggybacks checkpoints on heartbeats (R1).
 */
public final class TestConsumer {
  private final TestClient client;
  private final String group;
  private final String id;
  private long session;
  private List<Grant> grants = List.of();

  public TestConsumer(TestClient client, String group, String id) {
    this.client = client;
    this.group = group;
    this.id = id;
  }

  public TestConsumer join() {
    absorb(client.write(Cmd.join(group, id)));
    return this;
  }

  /** Heartbeats what it holds, with checkpoint entries. */
  public Result heartbeat(CheckpointEntry... commits) {
    Result r = client.write(Cmd.heartbeat(group, id, session, grants, List.of(commits)));
    absorb(r);
    return r;
  }

  /** A heartbeat carrying a checkpoint of {@code partition} at {@code cursor} with the reader's lag. */
  public Result commit(int partition, String cursor, long lag, long lagMs) {
    return heartbeat(Cmd.entry(grant(partition), cursor, lag, lagMs));
  }

  public Grant grant(int partition) {
    return grants.stream().filter(g -> g.getPartition() == partition).findFirst()
        .orElseThrow(() -> new IllegalStateException(id + " holds no partition " + partition + ": " + grants));
  }

  public List<Grant> grants() {
    return grants;
  }

  private void absorb(Result r) {
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException(id + ": heartbeat answered " + r.getCode() + " " + r.getMessage());
    }
    session = r.getHeartbeat().getSession();
    List<Grant> next = new ArrayList<>(r.getHeartbeat().getGrantsList());
    grants = List.copyOf(next);
  }
}
