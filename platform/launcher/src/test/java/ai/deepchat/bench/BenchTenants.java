package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;

/** Tenants for benches and node-level tests: a widget for one origin, one API key, chosen limits. */
public final class BenchTenants {

  /** The per-minute limits of tenant_settings. */
  public record Limits(int tenant, int visitor, int apiKey) {
    public static final Limits UNLIMITED = new Limits(1_000_000, 1_000_000, 1_000_000);
  }

  private BenchTenants() {
  }

  /**
   * Creates tenant {@code slug} with {@code settings} (tenant_settings.settings), {@code limits}, a
   * widget allowing {@code origin} and an API key; returns its id, widget key and API key.
   */
  public static JsonObject create(Node node, String slug, String origin, JsonObject settings, Limits limits) throws Exception {
    var db = node.platform().database();
    UUID tenant = await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1)"
        + " RETURNING id").execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID(0))));
    String widgetKey = TenantKeys.newWidgetKey(tenant);
    TenantKeys.NewApiKey apiKey = TenantKeys.newApiKey(tenant);
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, settings,"
            + " requests_per_minute, visitor_requests_per_minute, api_key_requests_per_minute)"
            + " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE"
            + " SET settings = $2, requests_per_minute = $3, visitor_requests_per_minute = $4,"
            + " api_key_requests_per_minute = $5")
        .execute(Tuple.of(tenant, settings, limits.tenant(), limits.visitor(), limits.apiKey()))
        .compose(r -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins)"
            + " VALUES ($1, $2, $3)").execute(Tuple.of(tenant, widgetKey, new String[] {origin})))
        .compose(r -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash)"
            + " VALUES ($1, 'bench', $2, $3)").execute(Tuple.of(tenant, apiKey.prefix(), apiKey.hash())))));
    return new JsonObject().put("tenantId", tenant.toString()).put("widgetKey", widgetKey)
        .put("apiKey", apiKey.plaintext()).put("origin", origin);
  }

  /** Another API key of the tenant (a separate per-key bucket). */
  public static String apiKey(Node node, UUID tenant) throws Exception {
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    await(node.platform().database().inTenant(tenant, c -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name,"
        + " key_prefix, key_hash) VALUES ($1, 'second', $2, $3)").execute(Tuple.of(tenant, key.prefix(), key.hash()))));
    return key.plaintext();
  }
}
