package ai.deepchat.policy.ratelimit;

import ai.deepchat.gateway.HttpErrors;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Function;

/** HTTP side of rate limiting: 429 with Retry-After and an OpenAI-style error body. */
public final class RateLimitHttp {

  private RateLimitHttp() {
  }

  /** Answers 429: {@code Retry-After} in seconds, {"error":{"type":"rate_limit_error","code":"rate_limit_exceeded"}}. */
  public static void tooManyRequests(RoutingContext ctx, RateDecision decision) {
    ctx.response().putHeader("Retry-After", String.valueOf(decision.retryAfterSeconds()));
    HttpErrors.send(ctx, 429, "Rate limit exceeded; retry after " + decision.retryAfterSeconds() + " s.",
        "rate_limit_error", "rate_limit_exceeded");
  }

  /**
   * A route handler that runs {@code check} (e.g. {@code ctx -> limits.checkApiChannel(tenant)}) and
   * continues when allowed, answers 429 when not. Mount it after authentication.
   */
  public static Handler<RoutingContext> handler(Function<RoutingContext, Future<RateDecision>> check) {
    return ctx -> check.apply(ctx).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(503, ar.cause());
      } else if (ar.result().allowed()) {
        ctx.response().putHeader("X-RateLimit-Remaining", String.valueOf(ar.result().remaining()));
        ctx.next();
      } else {
        tooManyRequests(ctx, ar.result());
      }
    });
  }
}
