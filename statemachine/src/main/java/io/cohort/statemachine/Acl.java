package io.cohort.statemachine;

import io.cohort.statemachine.proto.AccessEntry;
import io.cohort.statemachine.proto.Role;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The replicated access control list (R11): each principal's role and, for a consumer, the groups
 * it may consume (names or prefixes). Immutable: a change makes a new list, so the leader's gRPC
 * threads can read the applied one (admin checks, refusals before the log) without the apply lock.
 */
public final class Acl {
  /** At most this many principals: an ACL grows only by admin commands, but stays bounded (R9). */
  public static final int MAX_PRINCIPALS = 10_000;
  /** At most this many group patterns per consumer. */
  public static final int MAX_GROUPS_PER_PRINCIPAL = 1_000;

  public static final Acl EMPTY = new Acl(new TreeMap<>(), false);

  /** One principal's rights; groups only for a consumer, sorted. */
  record Entry(Role role, SortedSet<String> groups) {
    Entry {
      groups = Collections.unmodifiableSortedSet(new TreeSet<>(groups));
    }
  }

  private final TreeMap<String, Entry> entries;
  private final boolean bootstrapped;

  private Acl(TreeMap<String, Entry> entries, boolean bootstrapped) {
    this.entries = entries;
    this.bootstrapped = bootstrapped;
  }

  /** Whether the bootstrap admins were set (the first leader does it once). */
  public boolean bootstrapped() {
    return bootstrapped;
  }

  /** The principal's role; the internal principal is an admin; unknown principals have none. */
  public Role role(String principal) {
    if (Principals.INTERNAL.equals(principal)) {
      return Role.ADMIN;
    }
    Entry e = entries.get(principal);
    return e == null ? Role.ROLE_UNSPECIFIED : e.role();
  }

  public boolean isAdmin(String principal) {
    return role(principal) == Role.ADMIN;
  }

  /** Admins, and consumers granted a pattern that covers the group. */
  public boolean mayConsume(String principal, String group) {
    Role role = role(principal);
    if (role == Role.ADMIN) {
      return true;
    }
    if (role != Role.CONSUMER) {
      return false;
    }
    for (String pattern : entries.get(principal).groups()) {
      if (Principals.covers(pattern, group)) {
        return true;
      }
    }
    return false;
  }

  /** Admins and readers see every group; a consumer sees those it may consume. */
  public boolean mayDescribe(String principal, String group) {
    Role role = role(principal);
    return role == Role.ADMIN || role == Role.READER || mayConsume(principal, group);
  }

  int size() {
    return entries.size();
  }

  Entry entry(String principal) {
    return entries.get(principal);
  }

  long admins() {
    return entries.values().stream().filter(e -> e.role() == Role.ADMIN).count();
  }

  Acl with(String principal, Entry entry) {
    TreeMap<String, Entry> next = new TreeMap<>(entries);
    next.put(principal, entry);
    return new Acl(next, bootstrapped);
  }

  Acl without(String principal) {
    TreeMap<String, Entry> next = new TreeMap<>(entries);
    next.remove(principal);
    return new Acl(next, bootstrapped);
  }

  Acl markBootstrapped() {
    return new Acl(entries, true);
  }

  /** The entries as records, in principal order (snapshots, `acl list`). */
  public List<AccessEntry> records() {
    List<AccessEntry> out = new ArrayList<>(entries.size());
    entries.forEach((p, e) -> out.add(record(p, e)));
    return out;
  }

  static AccessEntry record(String principal, Entry e) {
    return AccessEntry.newBuilder().setPrincipal(principal).setRole(e.role()).addAllGroups(e.groups()).build();
  }

  /** Rebuilds the list from snapshot records (already in order); throws on a record that cannot be. */
  static Acl of(List<AccessEntry> records, boolean bootstrapped) {
    TreeMap<String, Entry> m = new TreeMap<>();
    for (AccessEntry r : records) {
      if (r.getRole() == Role.ROLE_UNSPECIFIED || r.getRole() == Role.UNRECOGNIZED) {
        throw new IllegalArgumentException("access entry for " + Text.quote(r.getPrincipal()) + " has no role");
      }
      if (m.put(r.getPrincipal(), new Entry(r.getRole(), new TreeSet<>(r.getGroupsList()))) != null) {
        throw new IllegalArgumentException("principal " + Text.quote(r.getPrincipal()) + " appears twice");
      }
    }
    return new Acl(m, bootstrapped);
  }

  static String roleName(Role role) {
    return role == Role.ROLE_UNSPECIFIED ? "no role" : role.name().toLowerCase(java.util.Locale.ROOT);
  }
}
