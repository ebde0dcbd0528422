package ai.deepchat.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/** Counts requests in flight so a draining node knows when the last one has been answered. */
final class InFlightHandler implements Handler<RoutingContext> {

  private final GatewayAdmission admission;

  InFlightHandler(GatewayAdmission admission) {
    this.admission = admission;
  }

  @Override
  public void handle(RoutingContext ctx) {
    admission.requestStarted();
    ctx.addEndHandler(ar -> admission.requestEnded());
    ctx.next();
  }
}
