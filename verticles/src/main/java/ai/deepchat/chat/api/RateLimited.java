package ai.deepchat.chat.api;

import ai.deepchat.policy.ratelimit.RateDecision;
import ai.deepchat.policy.ratelimit.RateLimitHttp;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/** A request over its tenant's, key's or visitor's rate limit: answered 429 with Retry-After. */
public final class RateLimited extends RuntimeException {

  private final RateDecision decision;

  public RateLimited(RateDecision decision) {
    super("Rate limit exceeded; retry after " + decision.retryAfterSeconds() + " s.", null, false, false);
    this.decision = decision;
  }

  public RateDecision decision() {
    return decision;
  }

  /** Succeeds when the visitor (then the tenant) still has room; fails with {@link RateLimited}. */
  public static Future<Void> checkVisitor(RequestLimits limits, UUID tenantId, String visitorId) {
    return limits.checkVisitor(tenantId, visitorId).compose(d -> d.allowed()
        ? Future.<Void>succeededFuture() : Future.failedFuture(new RateLimited(d)));
  }

  /**
   * The authenticated API caller, when its key (checked before authentication, see
   * {@link RequestLimits#checkPresentedKey}) and then its tenant's API channel still have room; else
   * {@link RateLimited}.
   */
  public static Future<ApiKeyAuth.Caller> admitted(RequestLimits limits, ApiKeyAuth auth, RoutingContext ctx) {
    return limits.checkPresentedKey(ctx.request().getHeader("Authorization"))
        .compose(key -> key.allowed() ? auth.authenticate(ctx) : Future.failedFuture(new RateLimited(key)))
        .compose(caller -> limits.checkApiChannel(caller.tenantId()).compose(d -> d.allowed()
            ? Future.succeededFuture(caller) : Future.failedFuture(new RateLimited(d))));
  }

  /**
   * {@code caller}, authenticated earlier on the route, when its key's bucket and then its tenant's API
   * channel still have room; else {@link RateLimited}. For routes that take a stream slot first, so
   * that a request refused for want of a slot spends none of the caller's quota.
   */
  public static Future<ApiKeyAuth.Caller> withinLimits(RequestLimits limits, RoutingContext ctx,
                                                       ApiKeyAuth.Caller caller) {
    return limits.checkPresentedKey(ctx.request().getHeader("Authorization"))
        .compose(key -> key.allowed() ? limits.checkApiChannel(caller.tenantId()) : Future.succeededFuture(key))
        .compose(d -> d.allowed() ? Future.succeededFuture(caller) : Future.failedFuture(new RateLimited(d)));
  }

  /** Sends the failure: 429 for a rate limit, else the problem it maps to. */
  public static void send(RoutingContext ctx, Throwable err) {
    if (err instanceof RateLimited limited) {
      RateLimitHttp.tooManyRequests(ctx, limited.decision());
    } else {
      HttpProblem.of(err).send(ctx);
    }
  }
}
