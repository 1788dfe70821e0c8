package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.RevokeAccess;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import java.util.ArrayList;
import java.util.List;

@Parameters(commandDescription = "Take groups from a consumer, or (no --group) every right of a principal (R11, admin only; the last admin stays)")
public final class AclRevoke implements CliCommand {
  @Parameter(description = "PRINCIPAL", required = true, arity = 1)
  List<String> principal;

  @Parameter(names = "--group", description = "a group pattern to take away, as it was granted (repeatable)")
  List<String> groups = new ArrayList<>();

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    Writes.report(ctx, json, Writes.send(ctx.client(cluster), Command.newBuilder().setRevokeAccess(
        RevokeAccess.newBuilder().setPrincipal(principal.get(0)).addAllGroups(groups)).build()),
        doc -> doc.put("principal", principal.get(0)));
    return 0;
  }
}
