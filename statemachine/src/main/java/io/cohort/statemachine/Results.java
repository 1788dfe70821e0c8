package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;

/** Rejections are data (R8): these build the results that carry them. */
public final class Results {
  private static final Result OK = Result.newBuilder().setCode(Code.OK).build();

  private Results() {}

  public static Result ok() {
    return OK;
  }

  public static Result ok(String message) {
    return Result.newBuilder().setCode(Code.OK).setMessage(message).build();
  }

  public static Result rejected(Code code, String message) {
    return Result.newBuilder().setCode(code).setMessage(message).build();
  }

  public static QueryResult queryRejected(Code code, String message) {
    return QueryResult.newBuilder().setCode(code).setMessage(message).build();
  }
}
