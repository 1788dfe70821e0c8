package io.cohort.client.admin;

/**
 * What a membership change or leadership transfer did.
 *
 * @param summary one line for the operator, e.g. "n4 added: configuration n1,n2,n3,n4 (leader n1)"
 * @param before the leader's configuration before the change
 * @param after the leader's configuration once the change committed
 * @param leader the leader afterwards
 * @param millis how long it took
 */
public record MembershipResult(String summary, RaftConf before, RaftConf after, String leader, long millis) {}
