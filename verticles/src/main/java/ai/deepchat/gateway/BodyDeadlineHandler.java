package ai.deepchat.gateway;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * A request must have sent its whole body within HTTP_BODY_TIMEOUT_SECONDS of its headers, however it
 * trickles: the idle timeout alone lets a client that sends one byte every few seconds hold its
 * connection (and, before authentication and body parsing came first, a stream slot) for ever. Past the
 * deadline the request gets 408 if nothing was answered yet, and the connection is closed. The deadline
 * is absolute, not reset on progress, because progress is exactly what a trickle fakes.
 */
final class BodyDeadlineHandler implements Handler<RoutingContext> {

  private final long timeoutMs;

  BodyDeadlineHandler(int timeoutSeconds) {
    this.timeoutMs = timeoutSeconds * 1000L;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (timeoutMs <= 0 || req.isEnded()) {
      ctx.next();
      return;
    }
    long timer = ctx.vertx().setTimer(timeoutMs, t -> {
      if (req.isEnded()) {
        return;
      }
      if (!ctx.response().headWritten()) {
        ctx.response().putHeader("Connection", "close");
        HttpErrors.send(ctx, 408, "The request body did not arrive within " + timeoutMs / 1000 + " s.",
            "invalid_request_error", "body_timeout");
      }
      req.connection().close();
    });
    // an answer sent before the body ended (401, 413) leaves the timer to close a client still sending
    ctx.addEndHandler(ar -> {
      if (req.isEnded()) {
        ctx.vertx().cancelTimer(timer);
      }
    });
    ctx.next();
  }
}
