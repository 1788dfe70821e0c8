package io.cohort.harness.bench;

import io.cohort.client.CohortClient;
import io.cohort.client.CohortException;
import io.cohort.statemachine.proto.CreateGroup;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What one bench run creates on a cluster: topics and groups named uniquely per run
 * ({@code bench-<run>-<name>}), removed when the run ends, also when it fails, so a rerun on the
 * same cluster starts clean. On servers the bench started itself removal is skipped: they are
 * stopped and their storage deleted anyway.
 */
public final class Scratch implements AutoCloseable {
  private final CohortClient client;
  private final boolean remove;
  private final PrintStream out;
  private final String run;
  private final List<String> topics = new ArrayList<>();
  private final List<String> groups = new ArrayList<>();

  /** @param remove delete what was created on close (a cluster given with --peers) */
  public Scratch(CohortClient client, boolean remove, PrintStream out) {
    this.client = client;
    this.remove = remove;
    this.out = out;
    this.run = Long.toString(System.currentTimeMillis(), 36) + Integer.toString(ThreadLocalRandom.current().nextInt(1296), 36);
  }

  public CohortClient client() {
    return client;
  }

  /** A topic of {@code partitions} and a group reading it, both named after {@code base}; returns the name. */
  public synchronized String topicAndGroup(String base, int partitions, CreateGroup.Builder group) {
    String name = "bench-" + run + "-" + base;
    client.blocking().createTopic(name, partitions);
    topics.add(name);
    client.blocking().createGroup(group.setGroup(name).clearTopics().addTopics(name).build());
    groups.add(name);
    return name;
  }

  /** Removes the groups (with their members) and then the topics; a failure is a line, not an abort. */
  @Override
  public synchronized void close() {
    if (!remove || (groups.isEmpty() && topics.isEmpty())) {
      return;
    }
    int failed = 0;
    for (String g : groups) {
      failed += attempt(() -> client.blocking().deleteGroup(g, true), "group " + g);
    }
    for (String t : topics) {
      failed += attempt(() -> client.blocking().deleteTopic(t), "topic " + t);
    }
    out.printf("removed the %d group(s) and %d topic(s) this run created%s%n", groups.size(), topics.size(),
        failed == 0 ? "" : " (" + failed + " failed, see above)");
    groups.clear();
    topics.clear();
  }

  private int attempt(Runnable delete, String what) {
    try {
      delete.run();
      return 0;
    } catch (CohortException e) {
      out.println("could not remove " + what + ": " + e.getMessage());
      return 1;
    }
  }
}
