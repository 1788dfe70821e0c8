package io.cohort.statemachine;

import io.cohort.statemachine.proto.AccessEntry;
import io.cohort.statemachine.proto.AccessList;
import io.cohort.statemachine.proto.BootstrapAccess;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.GrantAccess;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.RevokeAccess;
import io.cohort.statemachine.proto.Role;
import java.util.TreeSet;

/** The ACL's commands (R11): grant, revoke, the bootstrap admins, and `acl list`. */
final class AccessControl {
  private final CoordinatorState state;

  AccessControl(CoordinatorState state) {
    this.state = state;
  }

  Result grant(GrantAccess g) {
    Acl acl = state.acl;
    String p = g.getPrincipal();
    Acl.Entry old = acl.entry(p);
    if (old == null && acl.size() >= Acl.MAX_PRINCIPALS) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "the ACL has the maximum of " + Acl.MAX_PRINCIPALS + " principals");
    }
    TreeSet<String> groups = new TreeSet<>();
    if (old != null && old.role() == Role.CONSUMER && g.getRole() == Role.CONSUMER) {
      groups.addAll(old.groups());
    }
    groups.addAll(g.getGroupsList());
    if (groups.size() > Acl.MAX_GROUPS_PER_PRINCIPAL) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a principal has at most " + Acl.MAX_GROUPS_PER_PRINCIPAL
          + " group patterns, " + Text.quote(p) + " would have " + groups.size());
    }
    if (old != null && old.role() == Role.ADMIN && g.getRole() != Role.ADMIN && acl.admins() == 1) {
      return Results.rejected(Code.FAILED_PRECONDITION, Text.quote(p) + " is the last admin: grant another first");
    }
    state.acl = acl.with(p, new Acl.Entry(g.getRole(), groups));
    return Results.ok(Text.quote(p) + " is " + Acl.roleName(g.getRole())
        + (groups.isEmpty() ? "" : " of groups " + String.join(", ", groups)));
  }

  Result revoke(RevokeAccess r) {
    Acl acl = state.acl;
    String p = r.getPrincipal();
    Acl.Entry old = acl.entry(p);
    if (old == null) {
      return Results.rejected(Code.NOT_FOUND, "principal " + Text.quote(p) + " has no rights");
    }
    if (r.getGroupsCount() == 0) {
      if (old.role() == Role.ADMIN && acl.admins() == 1) {
        return Results.rejected(Code.FAILED_PRECONDITION, Text.quote(p) + " is the last admin: grant another first");
      }
      state.acl = acl.without(p);
      return Results.ok(Text.quote(p) + " has no rights any more");
    }
    if (old.role() != Role.CONSUMER) {
      return Results.rejected(Code.FAILED_PRECONDITION, Text.quote(p) + " is " + Acl.roleName(old.role())
          + ", not a consumer: revoke without groups to remove it");
    }
    TreeSet<String> groups = new TreeSet<>(old.groups());
    for (String pattern : r.getGroupsList()) {
      if (!groups.remove(pattern)) {
        return Results.rejected(Code.NOT_FOUND, Text.quote(p) + " was not granted " + Text.quote(pattern)
            + ": nothing revoked");
      }
    }
    state.acl = acl.with(p, new Acl.Entry(Role.CONSUMER, groups));
    return Results.ok(Text.quote(p) + " keeps " + (groups.isEmpty() ? "no groups" : String.join(", ", groups)));
  }

  /** Once per cluster: a second bootstrap (a racing leader) changes nothing. */
  Result bootstrap(BootstrapAccess b) {
    if (state.acl.bootstrapped()) {
      return Results.ok("bootstrap admins were set before: nothing changed");
    }
    Acl acl = state.acl;
    for (String admin : b.getAdminsList()) {
      acl = acl.with(admin, new Acl.Entry(Role.ADMIN, new TreeSet<>()));
    }
    state.acl = acl.markBootstrapped();
    return Results.ok("bootstrap admins: " + String.join(", ", b.getAdminsList()));
  }

  /** Admins and readers see every entry; anyone else only its own. */
  QueryResult list(String principal) {
    Acl acl = state.acl;
    AccessList.Builder b = AccessList.newBuilder().setBootstrapped(acl.bootstrapped());
    Role role = acl.role(principal);
    if (role == Role.ADMIN || role == Role.READER) {
      b.addAllEntries(acl.records());
    } else if (acl.entry(principal) != null) {
      AccessEntry own = Acl.record(principal, acl.entry(principal));
      b.addEntries(own);
    }
    return QueryResult.newBuilder().setCode(Code.OK).setAccess(b).build();
  }
}
