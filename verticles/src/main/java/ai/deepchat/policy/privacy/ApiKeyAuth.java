package ai.deepchat.policy.privacy;

import ai.deepchat.gateway.HttpErrors;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.ApiKeyLookup;
import ai.deepchat.policy.ratelimit.RateLimitHttp;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Authenticates {@code Authorization: Bearer dck_...} API keys: the key names its tenant, and its
 * SHA-256 must be a non-revoked key of that tenant. On success the context holds
 * {@link #TENANT_ID} (UUID) and {@link #API_KEY_ID} (String); otherwise 401 in the OpenAI error shape,
 * or 403 when the tenant is suspended. The lookup is {@link ApiKeyLookup}, shared with the chat API.
 * With {@link RequestLimits}, the presented key's bucket is checked before the lookup and the tenant's
 * API channel after it: 429 with Retry-After past either.
 */
public final class ApiKeyAuth implements Handler<RoutingContext> {

  public static final String TENANT_ID = "tenantId";
  public static final String API_KEY_ID = "apiKeyId";

  private final Database database;
  private final RequestLimits limits;

  /** Authentication only (no rate limits). */
  public ApiKeyAuth(Database database) {
    this(database, null);
  }

  public ApiKeyAuth(Database database, RequestLimits limits) {
    this.database = database;
    this.limits = limits;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (limits == null) {
      authenticate(ctx);
      return;
    }
    limits.checkPresentedKey(ctx.request().getHeader("Authorization")).onComplete(ar -> {
      if (ar.succeeded() && !ar.result().allowed()) {
        RateLimitHttp.tooManyRequests(ctx, ar.result());
      } else {
        authenticate(ctx); // a limiter that failed has already let the request through (RequestLimits)
      }
    });
  }

  private void authenticate(RoutingContext ctx) {
    ApiKeyLookup.find(database, ctx.request().getHeader("Authorization")).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(503, ar.cause());
      } else if (ar.result().isEmpty()) {
        unauthorized(ctx);
      } else if (!ar.result().get().tenantActive()) {
        HttpErrors.send(ctx, 403, "This workspace is suspended.", "permission_error", "tenant_suspended");
      } else {
        ctx.put(TENANT_ID, ar.result().get().tenantId());
        ctx.put(API_KEY_ID, ar.result().get().keyId().toString());
        if (limits == null) {
          ctx.next();
        } else {
          RateLimitHttp.handler(c -> limits.checkApiChannel(c.get(TENANT_ID))).handle(ctx);
        }
      }
    });
  }

  private static void unauthorized(RoutingContext ctx) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer");
    HttpErrors.send(ctx, 401, "Invalid or missing API key.", "invalid_request_error", "invalid_api_key");
  }
}
