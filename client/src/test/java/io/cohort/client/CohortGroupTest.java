package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cohort.server.ServerConfig;
import org.junit.jupiter.api.Test;

class CohortGroupTest {
  @Test
  void clientsAndServersUseTheSameRaftGroup() {
    assertEquals(ServerConfig.DEFAULT_GROUP_ID, CohortGroup.ID);
  }
}
