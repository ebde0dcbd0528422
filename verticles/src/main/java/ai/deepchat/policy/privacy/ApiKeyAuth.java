package ai.deepchat.policy.privacy;

import ai.deepchat.gateway.HttpErrors;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Handler;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.Optional;
import java.util.UUID;

/**
 * Authenticates {@code Authorization: Bearer dck_...} API keys: the key names its tenant, and its
 * SHA-256 must be a non-revoked key of that tenant. On success the context holds
 * {@link #TENANT_ID} (UUID) and {@link #API_KEY_ID} (String); otherwise 401 in the OpenAI error shape,
 * or 403 when the tenant is suspended.
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
    String header = ctx.request().getHeader("Authorization");
    Optional<TenantKeys.PresentedKey> key = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
        ? TenantKeys.parseApiKey(header.substring(7)) : Optional.empty();
    if (key.isEmpty()) {
      unauthorized(ctx);
      return;
    }
    UUID tenant = key.get().tenantId();
    database.inTenant(tenant, conn -> conn.preparedQuery(
            "SELECT k.id, k.last_used_at < now() - interval '1 minute' OR k.last_used_at IS NULL AS stale,"
                + " t.status FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
                + " WHERE k.key_hash = $1 AND k.revoked_at IS NULL")
        .execute(Tuple.of(key.get().hash()))
        .compose(rows -> {
          if (rows.size() != 1) {
            return Future.succeededFuture((UUID) null);
          }
          Row row = rows.iterator().next();
          if (!"active".equals(row.getString("status"))) {
            return Future.failedFuture(new SuspendedTenant());
          }
          UUID id = row.getUUID("id");
          // last use is kept to the minute: a write per request would contend on one hot row
          return row.getBoolean("stale")
              ? conn.preparedQuery("UPDATE api_keys SET last_used_at = now() WHERE id = $1").execute(Tuple.of(id)).map(id)
              : Future.succeededFuture(id);
        }))
        .onComplete(ar -> {
          if (ar.failed() && ar.cause() instanceof SuspendedTenant) {
            HttpErrors.send(ctx, 403, "This workspace is suspended.", "permission_error", "tenant_suspended");
          } else if (ar.failed()) {
            ctx.fail(503, ar.cause());
          } else if (ar.result() == null) {
            unauthorized(ctx);
          } else {
            ctx.put(TENANT_ID, tenant);
            ctx.put(API_KEY_ID, ar.result().toString());
            ctx.next();
          }
        });
  }

  private static final class SuspendedTenant extends RuntimeException {
    SuspendedTenant() {
      super("tenant suspended", null, false, false);
    }
  }

  private static void unauthorized(RoutingContext ctx) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer");
    HttpErrors.send(ctx, 401, "Invalid or missing API key.", "invalid_request_error", "invalid_api_key");
  }
}
