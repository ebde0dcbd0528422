package ai.deepchat.gateway;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Error bodies in the OpenAI shape ({"error": {"message", "type", "code"}}), used by every JSON
 * endpoint so clients parse one format.
 */
public final class HttpErrors {

  private HttpErrors() {
  }

  public static JsonObject body(String message, String type, String code) {
    return new JsonObject().put("error", new JsonObject()
        .put("message", message).put("type", type).put("code", code));
  }

  public static void send(RoutingContext ctx, int status, String message, String type, String code) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .end(body(message, type, code).encode());
  }

  /**
   * Maps a failed route (thrown exception, ctx.fail(status)) to a JSON error without a stack trace, or,
   * for a browser's 404 or 5xx, to an HTML page ({@link ErrorPages}).
   */
  public static void onFailure(RoutingContext ctx) {
    if ((ctx.statusCode() <= 0 || ctx.statusCode() >= 500) && DatabaseFailures.unavailable(ctx.failure())) {
      // Expected while PostgreSQL restarts: a clear, retryable answer, not an internal error.
      org.slf4j.LoggerFactory.getLogger(HttpErrors.class).warn("request {}: database unavailable ({})",
          (Object) ctx.get(RequestIdHandler.CONTEXT_KEY), String.valueOf(ctx.failure().getMessage()));
      ctx.response().putHeader("Retry-After", "5");
      send(ctx, 503, "The database is unavailable; retry shortly.", "server_error", "database_unavailable");
      return;
    }
    int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
    if (status >= 500 && ctx.failure() != null) {
      org.slf4j.LoggerFactory.getLogger(HttpErrors.class).error("request {} failed",
          (Object) ctx.get(RequestIdHandler.CONTEXT_KEY), ctx.failure());
    }
    if ((status == 404 || status >= 500) && ErrorPages.wantsHtml(ctx)) {
      ErrorPages.send(ctx, status);
      return;
    }
    String message = switch (status) {
      case 400 -> "The request is malformed.";
      case 401 -> "Authentication is required.";
      case 403 -> "You may not do this.";
      case 404 -> "Not found.";
      case 405 -> "Method not allowed.";
      case 413 -> "The request body is too large.";
      case 415 -> "Unsupported media type.";
      default -> status >= 500 ? "Internal error; the request id identifies it in the logs." : "Request failed.";
    };
    String type = status >= 500 ? "server_error" : "invalid_request_error";
    send(ctx, status, message, type, "http_" + status);
  }
}
