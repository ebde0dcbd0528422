package ai.deepchat.gateway;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;

import java.util.List;

/**
 * The streaming endpoints the gateway guards before any feature sees them: while the node is draining,
 * cut off from the cluster's majority, or has no free stream slot, they are refused at once (503 +
 * Retry-After, before authentication or the body), so the excess of an overload costs nothing. They
 * take no slot here: the route takes it ({@link StreamLimitHandler#admit}) once the caller is
 * authenticated and the body read, so anonymous or trickling requests never hold one. WebSocket
 * upgrades are only refused while draining or cut off, because a socket carries many turns and the
 * chat code takes one slot per turn.
 */
final class StreamingRoutes {

  /** POST endpoints whose answer is generated (streamed or not). */
  static final List<String> GENERATING = List.of("/v1/chat/completions", "/v1/completions", "/widget/chat");
  static final List<String> SOCKETS = List.of("/widget/ws");

  private StreamingRoutes() {
  }

  static void guard(Router router, GatewayAdmission admission) {
    for (String path : GENERATING) {
      router.route(HttpMethod.POST, path).handler(ctx -> {
        GatewayAdmission.Refusal refusal = admission.refusalNow();
        if (refusal != null) {
          StreamLimitHandler.refuse(ctx, admission, refusal);
        } else {
          ctx.next();
        }
      });
    }
    for (String path : SOCKETS) {
      router.route(HttpMethod.GET, path).handler(ctx -> {
        if (admission.draining()) {
          StreamLimitHandler.refuse(ctx, admission, GatewayAdmission.Refusal.DRAINING);
        } else if (!admission.hasMajority()) {
          StreamLimitHandler.refuse(ctx, admission, GatewayAdmission.Refusal.NO_MAJORITY);
        } else {
          ctx.next();
        }
      });
    }
  }
}
