package ai.deepchat.gateway;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;

import java.util.List;

/**
 * The streaming endpoints the gateway guards before any feature sees them: each HTTP answer holds a
 * stream slot for its lifetime; WebSocket upgrades are only refused while draining or cut off from
 * the cluster's majority, because a socket carries many turns and the chat code takes one slot per turn.
 */
final class StreamingRoutes {

  /** POST endpoints whose answer is generated (streamed or not). */
  static final List<String> GENERATING = List.of("/v1/chat/completions", "/v1/completions", "/widget/chat");
  static final List<String> SOCKETS = List.of("/widget/ws");

  private StreamingRoutes() {
  }

  static void guard(Router router, GatewayAdmission admission) {
    StreamLimitHandler limit = StreamLimitHandler.create();
    for (String path : GENERATING) {
      router.route(HttpMethod.POST, path).handler(limit);
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
