package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus library is optional: with it off the classpath a consumer starts, reads, commits
 * and closes. Runs {@link Run} in a class loader that has this test's classpath minus every
 * Prometheus jar.
 */
class NoPrometheusTest {

  /** What runs inside the class loader without Prometheus. */
  public static final class Run {
    public static long consume() throws Exception {
      try (LocalCoordinator coordinator = new LocalCoordinator()) {
        InMemoryLog log = new InMemoryLog();
        coordinator.createTopic("t", 1);
        coordinator.createGroup("g", "t", 10_000, 100);
        log.append("t", 0, 7);
        Recorder r = new Recorder("a", new AtomicLong(), new java.util.concurrent.CopyOnWriteArrayList<>());
        ConsumerConfig config = ConsumerConfig.builder("g", "a").commitIntervalMs(50).pollWaitMs(20)
            .poisonPolicy(PoisonPolicy.skipAfter(3)).build();
        try (GroupConsumer<InMemoryLog.Record> c = GroupConsumer.start(coordinator, config, log, r, r)) {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (r.acked.getOrDefault(new PartitionId("t", 0), 0L) < 7 && System.nanoTime() < deadline) {
            synchronized (r) {
              r.wait(20); // a bounded poll of the condition inside the isolated loader (no Awaitility there)
            }
          }
          config.toString(); // a record's toString reads every component
          return r.acked.getOrDefault(new PartitionId("t", 0), 0L);
        }
      }
    }
  }

  @Test
  void aConsumerRunsWithoutThePrometheusLibrary() throws Exception {
    List<URL> urls = new ArrayList<>();
    int dropped = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (entry.contains("prometheus")) {
        dropped++;
        continue;
      }
      urls.add(Path.of(entry).toUri().toURL());
    }
    assertTrue(dropped > 0, "the test classpath has Prometheus, so dropping it means something");
    try (URLClassLoader isolated = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
      assertThrows(ClassNotFoundException.class,
          () -> isolated.loadClass("io.prometheus.metrics.model.registry.PrometheusRegistry"));
      Class<?> run = isolated.loadClass(Run.class.getName());
      assertEquals(7L, run.getMethod("consume").invoke(null));
    }
  }
}
