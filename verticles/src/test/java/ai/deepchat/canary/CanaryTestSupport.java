package ai.deepchat.canary;

import ai.deepchat.canary.registry.Actor;
import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.ModelRegistry.VersionSpec;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.TenantKeys;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.rag.embed.EmbeddingModels;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;

/** Shared test helpers: platform config, tenants, API keys, versions, services. */
public final class CanaryTestSupport {

  public static final Actor ADMIN = new Actor("user:test-admin", "127.0.0.1");

  private CanaryTestSupport() {
  }

  public static Platform platform(Database db, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of("HTTP_HOST", "127.0.0.1", "HTTP_PORT", "0"));
    env.putAll(extra);
    return new Platform(ConfigLoader.load(env, new String[0]), db, "test");
  }

  public static CanaryServices services(Vertx vertx, Platform platform) throws Exception {
    return await(CanaryServices.create(vertx, platform, new AuditLog(platform.database()),
        EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH), Clock.systemUTC()));
  }

  public static UUID createTenant(Database db, String slug) throws Exception {
    return await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID("id"))));
  }

  /** A fresh API key of the tenant; returns the plaintext. */
  /** The visitor's rating of a resolved handoff of the conversation, given {@code minutesAgo}. */
  public static void rate(Database db, UUID tenant, UUID conversation, int score, int minutesAgo) throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery("WITH h AS (INSERT INTO handoffs (tenant_id, conversation_id, state, "
            + "reason, resolution, resolved_at) VALUES (app_tenant(), $1, 'resolved', 'button', 'closed', now()) RETURNING id) "
            + "INSERT INTO conversation_ratings (tenant_id, conversation_id, handoff_id, score, created_at) "
            + "SELECT app_tenant(), $1, h.id, $2, now() - make_interval(mins => $3) FROM h")
        .execute(Tuple.of(conversation, score, minutesAgo))));
  }

  public static String apiKey(Database db, UUID tenant) throws Exception {
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash)"
        + " VALUES ($1, 'test', $2, $3)").execute(Tuple.of(tenant, key.prefix(), key.hash()))));
    return key.plaintext();
  }

  public static ModelVersion openai(CanaryServices s, UUID tenant, String name, String baseUrl) throws Exception {
    return await(s.registry().create(Scope.tenant(tenant), new VersionSpec(name, Backend.OPENAI, baseUrl,
        new JsonObject().put("model", name).put("temperature", 0.3), "You are {name}."), ADMIN));
  }

  public static ModelVersion local(CanaryServices s, UUID tenant, String name, String modelKey) throws Exception {
    return await(s.registry().create(Scope.tenant(tenant), new VersionSpec(name, Backend.LOCAL, modelKey,
        new JsonObject(), ""), ADMIN));
  }

  /** A version created and made the tenant's serving stable one. */
  public static ModelVersion stable(CanaryServices s, UUID tenant, ModelVersion draft) throws Exception {
    return await(s.registry().activate(Scope.tenant(tenant), draft.id(), ADMIN, "first stable"));
  }
}
