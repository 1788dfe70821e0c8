package io.cohort.tools.top;

import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.client.ReadMode;
import io.cohort.statemachine.proto.ClusterInfoView;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import java.util.ArrayList;
import java.util.List;

/** Takes {@link TopSample}s: the cluster's counts, then each group (or the one asked for) described. */
public final class TopSampler {
  private final CohortClient client;
  private final String group;
  private final Long stallAfterMs;

  /**
   * @param group only this group (it must exist), or null for all
   * @param stallAfterMs the stall threshold, or null for the server's
   */
  public TopSampler(CohortClient client, String group, Long stallAfterMs) {
    this.client = client;
    this.group = group;
    this.stallAfterMs = stallAfterMs;
  }

  TopSample sample() {
    ClusterInfoView info = BlockingCohortClient.await(client.clusterInfo(ReadMode.linearizable()));
    List<String> names = new ArrayList<>();
    if (group != null) {
      names.add(group);
    } else {
      for (GroupSummary s : BlockingCohortClient.await(client.listGroups(ReadMode.linearizable()))) {
        names.add(s.getGroup());
      }
    }
    List<GroupView> groups = new ArrayList<>();
    for (String name : names) {
      DescribeGroupQuery.Builder q = DescribeGroupQuery.newBuilder().setGroup(name);
      if (stallAfterMs != null) {
        q.setStallAfterMs(stallAfterMs);
      }
      try {
        groups.add(BlockingCohortClient.await(client.describeGroup(q.build(), ReadMode.linearizable())));
      } catch (io.cohort.client.CohortRejectedException e) {
        if (group != null || e.code() != io.cohort.statemachine.proto.Code.NOT_FOUND) {
          throw e;
        } // deleted between the list and its describe: not in this frame
      }
    }
    return new TopSample(System.nanoTime(), info, groups);
  }
}
