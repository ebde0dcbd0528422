package ai.deepchat.platform.security;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.UUID;

/**
 * The one lookup behind every API-key check: a presented {@code dck_} key names its tenant, so the key
 * is looked up under that tenant only. HTTP adapters turn the result into their own error shapes.
 */
public final class ApiKeyLookup {

  /** A live key: its id and whether its tenant is active (a suspended tenant's keys stop working). */
  public record Found(UUID tenantId, UUID keyId, boolean tenantActive) {
  }

  private static final Logger LOG = LoggerFactory.getLogger(ApiKeyLookup.class);
  private static final String REFRESH = "UPDATE api_keys SET last_used_at = now() WHERE id = $1";

  private ApiKeyLookup() {
  }

  /**
   * Empty when the header is not a well-formed key, or the key is unknown or revoked. Served from the
   * database's {@link ApiKeyCache} while it is live, else read in a transaction that also refreshes
   * last_used_at. last_used_at is refreshed at most once a minute per key: a write per request would
   * contend on one hot row; from a cache hit the refresh runs after the answer and never fails it.
   */
  public static Future<Optional<Found>> find(Database db, String authorizationHeader) {
    if (authorizationHeader == null || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Future.succeededFuture(Optional.empty());
    }
    Optional<TenantKeys.PresentedKey> presented = TenantKeys.parseApiKey(authorizationHeader.substring(7));
    if (presented.isEmpty()) {
      return Future.succeededFuture(Optional.empty());
    }
    UUID tenantId = presented.get().tenantId();
    String hash = presented.get().hash();
    ApiKeyCache cache = db.apiKeys();
    ApiKeyCache.Entry hit = cache.cached(hash);
    if (hit != null && hit.found.tenantId().equals(tenantId)) {
      if (hit.found.tenantActive() && hit.claimRefresh(System.nanoTime())) {
        refreshLastUsed(db, hit.found);
      }
      return Future.succeededFuture(Optional.of(hit.found));
    }
    long startedAt = cache.begin();
    return read(db, tenantId, hash).onSuccess(found -> found.ifPresent(f ->
        cache.offer(hash, f, startedAt, System.nanoTime())));
  }

  private static Future<Optional<Found>> read(Database db, UUID tenantId, String hash) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT k.id, "
            + "(k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale, t.status "
            + "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL")
        .execute(Tuple.of(hash))
        .compose(rows -> {
          if (rows.size() != 1) {
            return Future.succeededFuture(Optional.<Found>empty());
          }
          Row r = rows.iterator().next();
          Found found = new Found(tenantId, r.getUUID("id"), "active".equals(r.getString("status")));
          return found.tenantActive() && Boolean.TRUE.equals(r.getBoolean("stale"))
              ? c.preparedQuery(REFRESH).execute(Tuple.of(found.keyId())).map(Optional.of(found))
              : Future.succeededFuture(Optional.of(found));
        }));
  }

  private static void refreshLastUsed(Database db, Found found) {
    db.inTenant(found.tenantId(), c -> c.preparedQuery(REFRESH).execute(Tuple.of(found.keyId())))
        .onFailure(e -> LOG.warn("cannot refresh last_used_at of API key {}: {}", found.keyId(), e.getMessage()));
  }
}
