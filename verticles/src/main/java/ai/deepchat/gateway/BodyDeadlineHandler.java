package ai.deepchat.gateway;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * A request must have sent its whole body within HTTP_BODY_TIMEOUT_SECONDS of its headers, however it
 * trickles: the idle timeout alone lets a client that sends one byte every few seconds hold its
 * connection (and, before authentication and body parsing came first, a stream slot) for ever. Past the
 * deadline the request gets 408 if nothing was answered yet, and is hung up on ({@link Hangup}). The deadline
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
    if (req.isEnded()) {
      ctx.next();
      return;
    }
    long timer = timeoutMs <= 0 ? -1 : ctx.vertx().setTimer(timeoutMs, t -> {
      if (req.isEnded()) {
        return;
      }
      if (!ctx.response().headWritten()) {
        HttpErrors.send(ctx, 408, "The request body did not arrive within " + timeoutMs / 1000 + " s.",
            "invalid_request_error", "body_timeout");
      }
      Hangup.now(ctx);
    });
    // an answer sent before a declared body ended (401 on the headers, 413, 503): the rest is not read.
    // Only a declared body: a bodiless GET answered at once may not have seen its end processed yet.
    boolean declaresBody = req.headers().contains("Transfer-Encoding")
        || !"0".equals(req.headers().get("Content-Length") == null ? "0" : req.headers().get("Content-Length"));
    // an answer going out while the body still arrives says the connection ends with it, or a pooling
    // client would send its next request on a connection about to close
    ctx.addHeadersEndHandler(v -> {
      if (declaresBody && !req.isEnded() && req.version() != HttpVersion.HTTP_2) {
        ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
      }
    });
    ctx.addEndHandler(ar -> {
      if (req.isEnded()) {
        ctx.vertx().cancelTimer(timer);
      } else if (declaresBody) {
        Hangup.afterAnswer(ctx);
      }
    });
    ctx.next();
  }
}
