package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.GrantAccess;
import io.cohort.statemachine.proto.Role;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

@Parameters(commandDescription = "Give a principal (a certificate's CN) a role; a consumer also gets groups (R11, admin only)")
public final class AclGrant implements CliCommand {
  @Parameter(description = "PRINCIPAL", required = true, arity = 1)
  List<String> principal;

  @Parameter(names = "--role", description = "admin (everything), consumer (heartbeat, commit, leave in its groups), "
      + "reader (describe and list)", required = true)
  String role;

  @Parameter(names = "--group", description = "a group a consumer may consume: a name, a prefix ending in * (orders-*), or * (repeatable; adds to its groups)")
  List<String> groups = new ArrayList<>();

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    Role r = role(role);
    Writes.report(ctx, json, Writes.send(ctx.client(cluster), Command.newBuilder().setGrantAccess(
        GrantAccess.newBuilder().setPrincipal(principal.get(0)).setRole(r).addAllGroups(groups)).build()),
        doc -> doc.put("principal", principal.get(0)).put("role", role.toLowerCase(Locale.ROOT)));
    return 0;
  }

  static Role role(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "admin" -> Role.ADMIN;
      case "consumer" -> Role.CONSUMER;
      case "reader" -> Role.READER;
      default -> throw new ParameterException("--role must be admin, consumer or reader, got '" + name + "'");
    };
  }
}
