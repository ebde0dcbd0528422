package ai.deepchat.gateway;

import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.metrics.PlatformMetrics;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Admission for streaming HTTP endpoints: takes a stream slot from {@link GatewayAdmission} for the
 * life of the response, or answers 503 with Retry-After and an OpenAI-style error at once, so the
 * excess never reaches the pipeline. Take the slot only once the caller is authenticated and its
 * (bounded) body read and parsed ({@link #admit} from the route, or this handler mounted after those
 * handlers): a slot taken earlier lets anonymous clients that trickle their bodies hold every slot.
 * The gateway sheds requests on the streaming paths at once while no slot is free
 * ({@link StreamingRoutes}), without taking one. Taking it twice for one request is harmless (one slot
 * per request). WebSocket turns hold a slot per turn instead, via {@link GatewayAdmission#tryAcquireStream()}.
 */
public final class StreamLimitHandler implements Handler<RoutingContext> {

  static final String PERMIT_KEY = "deepchat.stream.permit";

  private final PlatformConfig.Operations fallback;

  private StreamLimitHandler(PlatformConfig.Operations fallback) {
    this.fallback = fallback;
  }

  public static StreamLimitHandler create() {
    return new StreamLimitHandler(PlatformConfig.Operations.defaults());
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (admit(ctx, GatewayAdmission.of(ctx.vertx(), fallback))) {
      ctx.next();
    }
  }

  /**
   * Takes this request's stream slot, held until the response ends; false when refused (the 503 is
   * already sent). Without a gateway on this node (a module tested alone) every request is admitted.
   */
  public static boolean admit(RoutingContext ctx) {
    return GatewayAdmission.find(ctx.vertx()).map(admission -> admit(ctx, admission)).orElse(true);
  }

  private static boolean admit(RoutingContext ctx, GatewayAdmission admission) {
    if (ctx.get(PERMIT_KEY) != null) {
      return true;
    }
    GatewayAdmission.Admitted result = admission.tryAcquireStream();
    if (!result.admitted()) {
      refuse(ctx, admission, result.refusal());
      return false;
    }
    GatewayAdmission.Permit permit = result.permit();
    ctx.put(PERMIT_KEY, permit);
    ctx.addEndHandler(ar -> permit.close());
    return true;
  }

  /** The 503 for a refused stream, also usable by WebSocket code that refuses a turn over HTTP. */
  public static void refuse(RoutingContext ctx, GatewayAdmission admission, GatewayAdmission.Refusal refusal) {
    PlatformMetrics.get().shed(refusal.name().toLowerCase());
    ctx.response().putHeader("Retry-After", String.valueOf(admission.retryAfterSeconds()));
    HttpErrors.send(ctx, 503, message(refusal, admission), "server_error", code(refusal));
  }

  /** The error code a refusal is reported with, over HTTP and on the widget socket. */
  public static String code(GatewayAdmission.Refusal refusal) {
    return switch (refusal) {
      case DRAINING -> "shutting_down";
      case OVERLOAD -> "overloaded";
      case NO_MAJORITY -> "cluster_minority";
    };
  }

  private static String message(GatewayAdmission.Refusal refusal, GatewayAdmission admission) {
    return switch (refusal) {
      case DRAINING -> "This server is shutting down; retry and another will answer.";
      case OVERLOAD -> "The server is at capacity; retry after " + admission.retryAfterSeconds() + " s.";
      case NO_MAJORITY -> "This server has lost contact with most of its cluster and takes no new chats until"
          + " it is back; retry and another server will answer.";
    };
  }
}
