package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Role;

/**
 * Who may do what (R11), decided from the replicated {@link Acl} and the principal that travelled
 * with the command into the log, so every replica decides the same. Admins do everything;
 * consumers heartbeat, commit and leave in their groups (and own the consumer ids they joined
 * with: checked in {@link Membership}); readers describe and list; the internal principal is the
 * leader's own commands. A refusal is PERMISSION_DENIED with one line, and changes nothing.
 */
final class Authorization {
  private Authorization() {}

  /** Null when the principal may send this command, else the refusal. */
  static Result check(Command c, String principal, Acl acl) {
    if (Principals.INTERNAL.equals(principal)) {
      return null;
    }
    return switch (c.getBodyCase()) {
      case HEARTBEAT -> consume(principal, acl, c.getHeartbeat().getGroup(), "heartbeat");
      case LEAVE -> consume(principal, acl, c.getLeave().getGroup(), "leave");
      case COMMIT_CHECKPOINTS -> consume(principal, acl, c.getCommitCheckpoints().getGroup(), "commit");
      case BOOTSTRAP_ACCESS -> denied("only the leader sets the bootstrap admins");
      case BODY_NOT_SET -> null; // the validation refuses it
      default -> acl.isAdmin(principal) ? null
          : denied(who(principal, acl) + " may not " + verb(c) + ": admin only");
    };
  }

  private static Result consume(String principal, Acl acl, String group, String verb) {
    if (acl.mayConsume(principal, group)) {
      return null;
    }
    return denied(who(principal, acl) + " may not " + verb + " in group " + Text.quote(group)
        + ": it was not granted that group");
  }

  /** Null when the principal may run this query, else the refusal (filtered views are the caller's). */
  static QueryResult checkQuery(Query q, String principal, Acl acl) {
    Role role = acl.role(principal);
    if (role == Role.ROLE_UNSPECIFIED) {
      return queryDenied(who(principal, acl) + " may not read anything: an admin grants roles with `cohort acl grant`");
    }
    boolean all = role == Role.ADMIN || role == Role.READER;
    return switch (q.getBodyCase()) {
      // checked as the heartbeat it is (Coordinator.quietHeartbeat)
      case CLUSTER_INFO, LIST_GROUPS, LIST_ACCESS, QUIET_HEARTBEAT, BODY_NOT_SET -> null;
      case DESCRIBE_GROUP -> acl.mayDescribe(principal, q.getDescribeGroup().getGroup()) ? null
          : queryDenied(who(principal, acl) + " may not describe group " + Text.quote(q.getDescribeGroup().getGroup()));
      case LIST_CHECKPOINTS -> acl.mayDescribe(principal, q.getListCheckpoints().getGroup()) ? null
          : queryDenied(who(principal, acl) + " may not read the checkpoints of group "
              + Text.quote(q.getListCheckpoints().getGroup()));
      // the whole state, session tokens and the ACL included (`snapshot save`)
      case SNAPSHOT_CHUNK -> role == Role.ADMIN ? null
          : queryDenied(who(principal, acl) + " may not copy snapshots: admin only");
      case LIST_TOPICS, DESCRIBE_TOPIC, STATE_DIGEST -> all ? null
          : queryDenied(who(principal, acl) + " may not " + q.getBodyCase().name().toLowerCase(java.util.Locale.ROOT)
              .replace('_', ' ') + ": admins and readers only");
    };
  }

  static String who(String principal, Acl acl) {
    return "principal " + Text.quote(principal) + " (" + Acl.roleName(acl.role(principal)) + ")";
  }

  /** The command as the CLI names it, for messages: "delete group", "set limits". */
  static String verb(Command c) {
    return c.getBodyCase().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
  }

  static Result denied(String message) {
    return Results.rejected(Code.PERMISSION_DENIED, message);
  }

  static QueryResult queryDenied(String message) {
    return Results.queryRejected(Code.PERMISSION_DENIED, message);
  }
}
