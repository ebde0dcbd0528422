package ai.deepchat.policy.ratelimit;

import ai.deepchat.platform.cache.TenantCache;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.TenantKeys;
import ai.deepchat.policy.PolicyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * The per-tenant limits of tenant_settings applied to requests: api_key_requests_per_minute per API key,
 * visitor_requests_per_minute per widget visitor, and requests_per_minute for the tenant as a whole,
 * counted per channel: the tenant's API keys share one bucket, its widget visitors another, so
 * anonymous visitors can never spend the budget the tenant's own integrations depend on. New widget
 * visitors are also limited per client address (minting visitors must not escape the per-visitor
 * limit). The narrower bucket is checked first, so a caller over its own limit does not spend the
 * channel's. Limits are cached for a minute per tenant in a {@link TenantCache} (dropped at once when
 * a policy change is published); if they cannot be read, the schema defaults apply, so a database hiccup never switches limiting off; a
 * limiter that cannot answer lets the request through (logged).
 */
public final class RequestLimits {

  /** A tenant's three limits, per minute. */
  public record Limits(int tenantPerMinute, int apiKeyPerMinute, int visitorPerMinute) {
    public static final Limits DEFAULTS = new Limits(600, 120, 20);
  }

  private static final Logger LOG = LoggerFactory.getLogger(RequestLimits.class);
  private static final Duration MAX_AGE = Duration.ofMinutes(1);
  private static final int MAX_PER_MINUTE = 1_000_000;

  private final Database database;
  private final RateLimiter limiter;
  private final TenantCache<Limits> cache;

  public RequestLimits(Vertx vertx, Database database, RateLimiter limiter) {
    this.database = database;
    this.limiter = limiter;
    this.cache = TenantCache.create(vertx, MAX_AGE, this::load);
  }

  /**
   * A request made with an API key (chat, knowledge bases, admin API), before authentication: the
   * presented key's bucket, keyed by the key's hash, so only the key's holder can spend it, and a caller
   * over its limit is refused without a database query (its excess costs other tenants nothing). A header
   * that holds no well-formed key passes: authentication refuses it. After authentication, call
   * {@link #checkApiChannel}.
   */
  public Future<RateDecision> checkPresentedKey(String authorizationHeader) {
    Optional<TenantKeys.PresentedKey> key = authorizationHeader == null
        || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)
        ? Optional.empty() : TenantKeys.parseApiKey(authorizationHeader.substring(7));
    if (key.isEmpty()) {
      return Future.succeededFuture(RateDecision.allow(0));
    }
    UUID tenantId = key.get().tenantId();
    return limits(tenantId).compose(l -> counted("api_key",
        failOpen(limiter.tryAcquire("k:" + tenantId + ":" + key.get().hash(), l.apiKeyPerMinute()))));
  }

  /** An authenticated API-key request: the tenant's API channel, shared by its keys and nothing else. */
  public Future<RateDecision> checkApiChannel(UUID tenantId) {
    return limits(tenantId).compose(l -> counted("tenant",
        failOpen(limiter.tryAcquire("ta:" + tenantId, l.tenantPerMinute()))));
  }

  /** A widget visitor's message: the visitor's bucket, then the tenant's widget channel. */
  public Future<RateDecision> checkVisitor(UUID tenantId, String visitorId) {
    return limits(tenantId).compose(l -> chain("visitor",
        limiter.tryAcquire("v:" + tenantId + ":" + visitorId, l.visitorPerMinute()),
        () -> limiter.tryAcquire("tw:" + tenantId, l.tenantPerMinute())));
  }

  /**
   * A new widget visitor: {@code perMinute} per client address and tenant, then the tenant's widget
   * channel (so many addresses together still only spend the widget's budget).
   */
  public Future<RateDecision> checkNewVisitor(UUID tenantId, String clientAddress, int perMinute) {
    return limits(tenantId).compose(l -> chain("new_visitor",
        limiter.tryAcquire("n:" + tenantId + ":" + clientAddress, perMinute),
        () -> limiter.tryAcquire("tw:" + tenantId, l.tenantPerMinute())));
  }

  /** Only the tenant's bucket (console and other authenticated calls). */
  public Future<RateDecision> checkTenant(UUID tenantId) {
    return limits(tenantId).compose(l -> counted("tenant", failOpen(limiter.tryAcquire("t:" + tenantId, l.tenantPerMinute()))));
  }

  /** Drops the cached limits of a tenant (after an admin changed them). */
  public void invalidate(UUID tenantId) {
    cache.invalidate(tenantId);
  }

  public Future<Limits> limits(UUID tenantId) {
    return cache.get(tenantId).recover(err -> {
      LOG.warn("cannot read rate limits of tenant {}, using defaults: {}", tenantId, err.getMessage());
      return Future.succeededFuture(Limits.DEFAULTS);
    });
  }

  private Future<Limits> load(UUID tenantId) {
    return database.inTenant(tenantId, conn -> conn.query(
            "SELECT requests_per_minute, api_key_requests_per_minute, visitor_requests_per_minute"
                + " FROM tenant_settings").execute()
        .map(rows -> {
          Limits l = Limits.DEFAULTS;
          for (var r : rows) {
            l = new Limits(cap(r.getInteger(0)), cap(r.getInteger(1)), cap(r.getInteger(2)));
          }
          return l;
        }));
  }

  private static int cap(Integer v) {
    return v == null ? 1 : Math.max(1, Math.min(MAX_PER_MINUTE, v));
  }

  private static Future<RateDecision> chain(String firstScope, Future<RateDecision> first,
                                            java.util.function.Supplier<Future<RateDecision>> second) {
    return counted(firstScope, failOpen(first))
        .compose(d -> d.allowed() ? counted("tenant", failOpen(second.get())) : Future.succeededFuture(d));
  }

  private static Future<RateDecision> counted(String scope, Future<RateDecision> decision) {
    return decision.onSuccess(d -> {
      if (!d.allowed()) {
        PolicyMetrics.rateLimited(scope);
      }
    });
  }

  /**
   * A limiter that cannot answer (Hazelcast migrating a partition, say) lets the request through:
   * limits are approximate by design, and refusing all traffic would turn a cluster hiccup into an outage.
   */
  private static Future<RateDecision> failOpen(Future<RateDecision> decision) {
    return decision.recover(err -> {
      LOG.warn("rate limiter unavailable, request allowed: {}", err.toString());
      return Future.succeededFuture(RateDecision.allow(0));
    });
  }
}
