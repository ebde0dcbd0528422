package ai.deepchat.chat.api;

import ai.deepchat.gateway.HttpErrors;
import ai.deepchat.platform.bus.BusFailure;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A request the edge refuses, with the HTTP status and OpenAI-style error it answers with. */
public final class HttpProblem extends RuntimeException {

  private static final Logger LOG = LoggerFactory.getLogger(HttpProblem.class);

  private final int status;
  private final String type;
  private final String code;

  public HttpProblem(int status, String type, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.code = code;
  }

  public static HttpProblem badRequest(String code, String message) {
    return new HttpProblem(400, "invalid_request_error", code, message);
  }

  public static HttpProblem unauthorized(String message) {
    return new HttpProblem(401, "authentication_error", "invalid_api_key", message);
  }

  public static HttpProblem forbidden(String code, String message) {
    return new HttpProblem(403, "permission_error", code, message);
  }

  public static HttpProblem notFound(String code, String message) {
    return new HttpProblem(404, "invalid_request_error", code, message);
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String code() {
    return code;
  }

  /** Maps any failure on the way to an answer (pipeline replies included) to a problem. */
  public static HttpProblem of(Throwable err) {
    if (err instanceof HttpProblem p) {
      return p;
    }
    if (err instanceof BusFailure.Failed || err instanceof ReplyException re
        && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      return of(BusFailure.of(err), err.getMessage());
    }
    if (err instanceof ReplyException) {
      return new HttpProblem(503, "server_error", "service_unavailable",
          "The chat service is not available right now; retry shortly.");
    }
    if (BusFailure.isTransient(err)) {
      // the database or a node is unreachable: fail fast, the client may retry
      LOG.warn("dependency unavailable: {}", err.toString());
      return new HttpProblem(503, "server_error", "service_unavailable",
          "The service is temporarily unavailable; retry shortly.");
    }
    LOG.error("unexpected failure", err);
    return new HttpProblem(500, "server_error", "internal_error", "Internal error; the request id identifies it in the logs.");
  }

  /** The problem the edge answers a bus failure with. */
  public static HttpProblem of(BusFailure e, String message) {
    String type = e.httpStatus() >= 500 ? "server_error" : e.httpStatus() == 409 ? "conflict_error" : "invalid_request_error";
    return new HttpProblem(e.httpStatus(), type, e.apiCode(), message);
  }

  public void send(RoutingContext ctx) {
    if (status == 503 && !ctx.response().headers().contains("Retry-After")) {
      // every 503 here is transient (a node, a worker or the database out of reach): say when to retry
      ctx.response().putHeader("Retry-After", "5");
    }
    HttpErrors.send(ctx, status, getMessage(), type, code);
  }
}
