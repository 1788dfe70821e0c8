package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.CohortClient;
import io.cohort.client.ConsumerConfig;
import io.cohort.client.ConsumerListener;
import io.cohort.client.GroupConsumer;
import io.cohort.client.PartitionGrant;
import io.cohort.client.PartitionId;
import io.cohort.client.RevokeReason;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.log.FileLog;
import io.cohort.tools.log.FileLogReader;
import io.cohort.tools.log.LogRecord;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

@Parameters(commandDescription = "Run a real consumer over the demo log; --json prints one JSON line per event")
public final class Consume implements CliCommand {
  @Parameter(description = "GROUP", required = true, arity = 1)
  List<String> group;

  @Parameter(names = "--consumer", description = "this consumer's id (stable across restarts)", required = true)
  String consumer;

  @Parameter(names = "--log-dir", description = "the demo log's directory", required = true)
  Path logDir;

  @Parameter(names = "--commit-every-ms", description = "commit processed positions at least this often")
  long commitEveryMs = 1000;

  @Parameter(names = "--exit-when-idle-ms", description = "leave and exit after this long without a record (0 = run until stopped)")
  long exitWhenIdleMs;

  @Parameter(names = "--json", description = "one JSON line per event (with \"version\")")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) throws Exception {
    if (commitEveryMs <= 0 || exitWhenIdleMs < 0) {
      throw new com.beust.jcommander.ParameterException("--commit-every-ms must be > 0 and --exit-when-idle-ms >= 0");
    }
    CohortClient client = ctx.client(cluster);
    client.blocking().describeGroup(group.get(0)); // an unknown group is an error, not an endless join
    Events events = new Events(ctx.out, json);
    AtomicLong lastRecordMs = new AtomicLong(System.currentTimeMillis());
    ConsumerConfig config = ConsumerConfig.builder(group.get(0), consumer).commitIntervalMs(commitEveryMs).build();
    CountDownLatch stop = new CountDownLatch(1);
    GroupConsumer<LogRecord> c = GroupConsumer.start(client, config, new FileLogReader(new FileLog(logDir)),
        (grant, records) -> {
          if (records.isEmpty()) {
            return;
          }
          if (json) {
            for (LogRecord r : records) {
              events.emit("record", grant.id(), Map.of("offset", r.offset()));
            }
          } else { // a person reads one line per batch
            events.emit("records", grant.id(), Map.of("offsets", records.get(0).offset() + ".."
                + records.get(records.size() - 1).offset(), "count", records.size()));
          }
          lastRecordMs.set(System.currentTimeMillis());
        },
        new ConsumerListener() {
          @Override
          public void onAssigned(PartitionGrant grant, String startCursor) {
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("epoch", grant.epoch());
            extra.put("cursor", startCursor);
            extra.put("sealed", grant.sealed());
            extra.put("endCursor", grant.endCursor());
            events.emit("assigned", grant.id(), extra);
            lastRecordMs.set(System.currentTimeMillis());
          }

          @Override
          public void onRevoked(PartitionGrant grant, RevokeReason reason) {
            events.emit(reason == RevokeReason.FENCED ? "fenced" : "released", grant.id(),
                Map.of("epoch", grant.epoch(), "reason", reason.name()));
          }

          @Override
          public void onCommitted(PartitionId partition, long epoch, String cursor, boolean finished) {
            events.emit("committed", partition, Map.of("epoch", epoch, "cursor", cursor, "finished", finished));
          }

          @Override
          public void onFenced() {
            events.emit("fenced", null, Map.of("reason", "CONSUMER_FENCED"));
            stop.countDown();
          }

          @Override
          public void onError(PartitionId partition, Throwable error) {
            events.emit("error", partition, Map.of("message", String.valueOf(error.getMessage())));
          }
        });
    Thread hook = new Thread(() -> {
      c.close();
      stop.countDown();
    }, "cohort-consume-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      while (!stop.await(100, TimeUnit.MILLISECONDS)) {
        if (exitWhenIdleMs > 0 && System.currentTimeMillis() - lastRecordMs.get() > exitWhenIdleMs) {
          break;
        }
      }
      c.close();
      events.emit("closed", null, Map.of());
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is already running: it closes the consumer
      }
    }
    return 0;
  }

  /** Prints events as JSON lines or as readable lines; one lock, so lines never interleave. */
  static final class Events {
    private final PrintStream out;
    private final boolean json;

    Events(PrintStream out, boolean json) {
      this.out = out;
      this.json = json;
    }

    synchronized void emit(String event, PartitionId partition, Map<String, ?> extra) {
      if (json) {
        ObjectNode line = Json.doc();
        line.put("event", event);
        line.put("timeMs", System.currentTimeMillis());
        line.put("topic", partition == null ? null : partition.topic());
        if (partition == null) {
          line.putNull("partition");
        } else {
          line.put("partition", partition.partition());
        }
        extra.forEach((k, v) -> line.set(k, Json.tree(v)));
        out.println(Json.write(line));
      } else {
        StringBuilder s = new StringBuilder(event);
        if (partition != null) {
          s.append(' ').append(partition.topic()).append('/').append(partition.partition());
        }
        extra.forEach((k, v) -> s.append(' ').append(k).append('=').append(v));
        out.println(s);
      }
      out.flush();
    }
  }
}
