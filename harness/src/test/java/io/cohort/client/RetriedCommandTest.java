package io.cohort.client;

import static io.cohort.client.ClusterFixture.TIMEOUT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.TopicView;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 5: a command whose reply is lost is retried by the client under the same client
 * id and call id, so the servers' retry cache answers it with the original reply instead of
 * applying it again. Written against the public client API ({@link CohortClient}).
 */
class RetriedCommandTest {
  @TempDir
  Path dir;

  private ClusterFixture fx;

  @BeforeEach
  void start() throws Exception {
    fx = new ClusterFixture(dir, true); // plaintext, said explicitly: the proxy finds the request by its bytes
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  @Test
  void aCreateTopicWhoseReplyIsLostIsRetriedAndAnsweredOkNotAlreadyExists() throws Exception {
    String leader = fx.cluster.leaderId();
    int leaderPort = Integer.parseInt(fx.cluster.address(leader).split(":")[1]);
    String topic = "retried-topic-" + System.nanoTime();
    try (ReplyDroppingProxy proxy = new ReplyDroppingProxy(leaderPort, topic.getBytes(StandardCharsets.UTF_8))) {
      // The leader first and through the proxy: the client's first attempt goes there.
      StringBuilder peers = new StringBuilder(leader + "=127.0.0.1:" + proxy.port());
      for (String id : fx.cluster.ids()) {
        if (!id.equals(leader)) {
          peers.append(',').append(id).append('=').append(fx.cluster.address(id));
        }
      }
      // One attempt outlasts every wait before the cut (60 + 90 + 90 s), so the only retry is the one the
      // cut forces. With 3 s, on a loaded machine the first attempt timed out while the test waited, and
      // its retry, on a new connection, was answered before the cut (CI, 2026-12-05).
      CohortClient client = CohortClient.connect(CohortClientConfig.builder(peers.toString()).insecure()
          .attemptTimeout(Duration.ofMinutes(5)).callTimeout(Duration.ofMinutes(6)).build());
      try {
        client.blocking().createTopic("warm-up", 1); // the connection to the leader is up
        proxy.arm();
        CompletableFuture<TopicView> created = CompletableFuture.supplyAsync(() -> client.blocking().createTopic(topic, 2));
        assertTrue(proxy.triggered().await(60, TimeUnit.SECONDS), "the request went through the proxy");
        await("applied by the cluster").atMost(TIMEOUT).ignoreExceptions()
            .until(() -> fx.admin.blocking().describeTopic(topic).getPartitionsCount() == 2);
        await("the reply reached the proxy and was dropped").atMost(TIMEOUT).until(() -> proxy.droppedBytes() > 0);
        assertTrue(!created.isDone(), "the client has no answer yet");
        proxy.cut(); // the connection dies with the reply in it

        TopicView view = created.get(90, TimeUnit.SECONDS); // retried: OK, not ALREADY_EXISTS
        assertEquals(topic, view.getTopic());
        assertEquals(2, view.getPartitionsCount());
        CohortRejectedException again = org.junit.jupiter.api.Assertions.assertThrows(CohortRejectedException.class,
            () -> client.blocking().createTopic(topic, 2));
        assertEquals(Code.ALREADY_EXISTS, again.code(), "a new call (new call id) is a new command");
      } finally {
        client.close();
      }
    }
  }
}
