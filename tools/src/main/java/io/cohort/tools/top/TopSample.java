package io.cohort.tools.top;

import io.cohort.statemachine.proto.ClusterInfoView;
import io.cohort.statemachine.proto.GroupView;
import java.util.List;

/**
 * What one look at the cluster saw: its counts and each group described (linearizable reads),
 * and when, on this process's monotonic clock (rates are per real second between two samples).
 */
record TopSample(long takenAtNanos, ClusterInfoView cluster, List<GroupView> groups) {}
