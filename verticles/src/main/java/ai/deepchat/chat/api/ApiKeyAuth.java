package ai.deepchat.chat.api;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/**
 * {@code Authorization: Bearer dck_...}: the key names its tenant, so the hash is looked up only under
 * that tenant (row-level security); revoked keys and suspended tenants are refused. last_used_at is
 * refreshed at most once a minute per key, so busy keys do not turn every request into a write.
 */
public final class ApiKeyAuth {

  /** The caller: its tenant and key. */
  public record Caller(UUID tenantId, UUID keyId) {
  }

  private final Database db;

  public ApiKeyAuth(Database db) {
    this.db = db;
  }

  public Future<Caller> authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Future.failedFuture(HttpProblem.unauthorized(
          "Missing API key: send 'Authorization: Bearer dck_...'."));
    }
    var presented = TenantKeys.parseApiKey(header.substring(7));
    if (presented.isEmpty()) {
      return Future.failedFuture(HttpProblem.unauthorized("Invalid API key."));
    }
    UUID tenantId = presented.get().tenantId();
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT k.id, "
                + "(k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale, t.status "
                + "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL")
            .execute(Tuple.of(presented.get().hash()))
            .compose(rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(HttpProblem.unauthorized("Invalid API key."));
              }
              Row r = rows.iterator().next();
              if (!"active".equals(r.getString("status"))) {
                return Future.failedFuture(HttpProblem.forbidden("tenant_suspended", "This workspace is suspended."));
              }
              UUID keyId = r.getUUID("id");
              Future<?> touch = Boolean.TRUE.equals(r.getBoolean("stale"))
                  ? c.preparedQuery("UPDATE api_keys SET last_used_at = now() WHERE id = $1").execute(Tuple.of(keyId))
                  : Future.succeededFuture();
              return touch.map(v -> new Caller(tenantId, keyId));
            }));
  }
}
