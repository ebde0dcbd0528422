package ai.deepchat.rag.http;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * A refused knowledge-base request, answered in the error shape of the rest of {@code /v1} (OpenAI's
 * error object): {@code {"error": {"message", "type", "param", "code"}}}, where {@code param} names the
 * field, query parameter or path segment at fault (or is null).
 */
final class ApiProblem extends RuntimeException {

  private final int status;
  private final String code;
  private final String param;

  ApiProblem(int status, String code, String param, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.param = param;
  }

  /** A field or parameter with a value we do not accept, or one we do not know. */
  static ApiProblem invalid(String param, String message) {
    return new ApiProblem(400, "invalid_value", param, message);
  }

  /** The problem a failed service call answers with. */
  static ApiProblem of(RagException e) {
    RagError error = e.error();
    String code = switch (error) {
      case NOT_FOUND -> "not_found";
      case INVALID_INPUT -> "invalid_value";
      case CONFLICT -> "name_taken";
      case EVALUATION_RUNNING -> "evaluation_running";
      case REEMBED_RUNNING -> "reembed_running";
      case REEMBED_NOT_RUNNING -> "reembed_not_running";
      case TOO_LARGE -> "file_too_large";
      case UNSUPPORTED_TYPE -> "unsupported_file_type";
      case INTERNAL -> "internal_error";
    };
    return new ApiProblem(error.httpStatus(), code, null, e.getMessage());
  }

  int status() {
    return status;
  }

  String code() {
    return code;
  }

  void send(RoutingContext ctx) {
    if (ctx.response().ended()) {
      return;
    }
    String type = status == 401 ? "authentication_error" : status == 409 ? "conflict_error"
        : status >= 500 ? "server_error" : "invalid_request_error";
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
        .end(new JsonObject().put("error", new JsonObject().put("message", getMessage()).put("type", type)
            .put("param", param).put("code", code)).encode());
  }
}
