package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The tenant the benches and the scenario tests drive: its widget accepts one origin and its
 * per-minute limits (tenant, API key, visitor) are at their maximum, so that what is measured is the
 * platform and not the rate limiter; answers are sampled with {@code maxTokens} (sampled, so that the
 * response cache never answers instead of the engine).
 */
public final class BenchTenant {

  private BenchTenant() {
  }

  /** Creates the tenant {@code bench}; returns its id, widget key, API key and origin. */
  public static JsonObject create(Node node, String origin, int maxTokens, double temperature) {
    var db = node.platform().database();
    UUID tenant = await(db.global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('bench', 'bench')"
        + " RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    String widgetKey = TenantKeys.newWidgetKey(tenant);
    TenantKeys.NewApiKey apiKey = TenantKeys.newApiKey(tenant);
    JsonObject settings = new JsonObject().put("max_tokens", maxTokens).put("temperature", temperature);
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, settings,"
            + " requests_per_minute, visitor_requests_per_minute, api_key_requests_per_minute)"
            + " VALUES ($1, $2, 1000000, 1000000, 1000000) ON CONFLICT (tenant_id) DO UPDATE"
            + " SET settings = $2, requests_per_minute = 1000000, visitor_requests_per_minute = 1000000,"
            + " api_key_requests_per_minute = 1000000")
        .execute(Tuple.of(tenant, settings))
        .compose(r -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins)"
            + " VALUES ($1, $2, $3)").execute(Tuple.of(tenant, widgetKey, new String[] {origin})))
        .compose(r -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash)"
            + " VALUES ($1, 'bench', $2, $3)").execute(Tuple.of(tenant, apiKey.prefix(), apiKey.hash())))));
    return new JsonObject().put("tenantId", tenant.toString()).put("widgetKey", widgetKey)
        .put("apiKey", apiKey.plaintext()).put("origin", origin);
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
