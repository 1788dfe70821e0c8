package io.cohort.client;

import io.cohort.statemachine.proto.StartFrom;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The consumer example of client/USAGE.md, compiled so that it keeps matching the API. */
final class UsageExample {
  private static final Logger log = LoggerFactory.getLogger(UsageExample.class);

  /** The application's log store, as the example assumes it. */
  interface Store {
    long size(PartitionId id);

    List<String> read(PartitionId id, long from, int max, long waitMs) throws Exception;

    boolean sealedAt(PartitionId id, long position);
  }

  private UsageExample() {}

  static void run(Store store, CountDownLatch shutdown) throws Exception {
    // A reader for your log store: cursors are your positions as strings ("next offset" here).
    PartitionReader<String> reader = (grant, cursor) -> new PartitionReader.Session<>() {
      long next = cursor != null ? Long.parseLong(cursor) : grant.startFrom() == StartFrom.END ? store.size(grant.id()) : 0;
      public Batch<String> poll(int max, long waitMs) throws Exception {
        List<String> records = store.read(grant.id(), next, max, waitMs);   // waits up to waitMs
        next += records.size();
        return new Batch<>(records, Long.toString(next), store.sealedAt(grant.id(), next), null, null);
      }
    };
    ConsumerListener listener = new ConsumerListener() {
      public void onAssigned(PartitionGrant g, String from) { log.info("reading {} epoch {} from {}", g.id(), g.epoch(), from); }
      public void onRevoked(PartitionGrant g, RevokeReason why) { log.info("stopped {}: {}", g.id(), why); }
    };
    try (CohortClient client = CohortClient.connect("n1=10.0.0.1:9861,n2=10.0.0.2:9861,n3=10.0.0.3:9861");
         GroupConsumer<String> consumer = GroupConsumer.start(client, ConsumerConfig.builder("analytics", "worker-1").build(),
             reader, (grant, records) -> records.forEach(UsageExample::handle), listener)) {
      shutdown.await();   // close() stops the readers, commits their last positions and leaves the group
    }
  }

  private static void handle(String record) {
    log.debug("{}", record);
  }
}
