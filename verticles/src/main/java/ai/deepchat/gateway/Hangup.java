package ai.deepchat.gateway;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * Stops a request body that is not worth reading. On HTTP/1.x the connection is closed, the only way
 * to stop a body. On HTTP/2 (JDK clients upgrade to h2c) the connection carries other requests: a
 * body still arriving after its answer is drained and dropped (a paused stream would hold the client
 * at a full flow-control window for ever), and one past its deadline has its stream reset.
 */
final class Hangup {

  /**
   * A lingering close, as nginx does it: after an early answer, what the client still sends is read and
   * dropped for a moment, so that a client writing its whole body before it reads (most do) gets the
   * answer rather than a connection reset; a larger or slower rest is cut off.
   */
  private static final long LINGER_MS = 2_000;
  private static final long LINGER_BYTES = 1 << 20;

  private Hangup() {
  }

  /** The answer went out before the whole body arrived (401, 413, 503): nothing more of it is read. */
  static void afterAnswer(RoutingContext ctx) {
    if (ctx.request().version() == HttpVersion.HTTP_2) {
      ctx.request().handler(null).resume();
    } else {
      linger(ctx);
    }
  }

  private static void linger(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    long[] dropped = {0};
    long timer = ctx.vertx().setTimer(LINGER_MS, t -> req.connection().close());
    req.handler(chunk -> {
      dropped[0] += chunk.length();
      if (dropped[0] > LINGER_BYTES) {
        ctx.vertx().cancelTimer(timer);
        req.connection().close();
      }
    });
    req.endHandler(v -> {
      ctx.vertx().cancelTimer(timer);
      req.connection().close();
    });
    req.resume();
  }

  /** The body is past its deadline. */
  static void now(RoutingContext ctx) {
    if (ctx.request().version() == HttpVersion.HTTP_2) {
      ctx.response().reset();
    } else {
      ctx.request().connection().close();
    }
  }
}
