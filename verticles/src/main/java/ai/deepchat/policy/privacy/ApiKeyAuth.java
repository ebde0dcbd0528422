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
 */
public final class ApiKeyAuth implements Handler<RoutingContext> {

  public static final String TENANT_ID = "tenantId";
  public static final String API_KEY_ID = "apiKeyId";

  private final Database database;

  public ApiKeyAuth(Database database) {
    this.database = database;
  }

  @Override
  public void handle(RoutingContext ctx) {
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
        ctx.next();
      }
    });
  }

  /** Mounted after this handler: the key's bucket, then the tenant's API channel (429 with Retry-After past them). */
  public static Handler<RoutingContext> withinLimits(RequestLimits limits) {
    return RateLimitHttp.handler(ctx -> limits.checkApiKey(ctx.get(TENANT_ID), ctx.get(API_KEY_ID)));
  }

  private static void unauthorized(RoutingContext ctx) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer");
    HttpErrors.send(ctx, 401, "Invalid or missing API key.", "invalid_request_error", "invalid_api_key");
  }
}
