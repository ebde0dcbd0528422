package ai.deepchat.gateway;

import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * Stops a request body that is not worth reading. On HTTP/1.x the connection is closed, the only way
 * to stop a body. On HTTP/2 (JDK clients upgrade to h2c) the connection carries other requests: a
 * body still arriving after its answer is drained and dropped (a paused stream would hold the client
 * at a full flow-control window for ever), and one past its deadline has its stream reset.
 */
final class Hangup {

  private Hangup() {
  }

  /** The answer went out before the whole body arrived (401, 413, 503): nothing more of it is read. */
  static void afterAnswer(RoutingContext ctx) {
    if (ctx.request().version() == HttpVersion.HTTP_2) {
      ctx.request().handler(null).resume();
    } else {
      ctx.request().connection().close();
    }
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
