package ai.deepchat.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Counts requests in flight so a draining node knows when the last one has been answered. WebSocket
 * upgrades are not counted: an idle socket must not hold a shutdown for the whole grace period, and
 * the turns a socket carries hold stream permits of their own.
 */
final class InFlightHandler implements Handler<RoutingContext> {

  private final GatewayAdmission admission;

  InFlightHandler(GatewayAdmission admission) {
    this.admission = admission;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (ctx.request().headers().contains("Upgrade", "websocket", true)) {
      ctx.next();
      return;
    }
    admission.requestStarted();
    ctx.addEndHandler(ar -> admission.requestEnded());
    ctx.next();
  }
}
