package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.gateway.ClientAddress;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/**
 * Creates widget visitor ids, at most RATE_LIMIT_NEW_VISITORS_PER_MINUTE per client address and
 * tenant: without it a client could mint a fresh visitor for every message and never meet the
 * per-visitor limit.
 */
final class NewVisitors {

  private final RequestLimits limits;
  private final ClientAddress clients;
  private final int perMinute;

  NewVisitors(RequestLimits limits, PlatformConfig.Policy policy) {
    this.limits = limits;
    this.clients = new ClientAddress(policy.trustedProxies());
    this.perMinute = policy.newVisitorsPerMinute();
  }

  /** A new visitor id, or a failure with {@link RateLimited}. */
  Future<String> mint(RoutingContext ctx, UUID tenantId) {
    return limits.checkNewVisitor(tenantId, clients.of(ctx.request()), perMinute).compose(d -> d.allowed()
        ? Future.succeededFuture("v_" + UUID.randomUUID().toString().replace("-", ""))
        : Future.failedFuture(new RateLimited(d)));
  }
}
