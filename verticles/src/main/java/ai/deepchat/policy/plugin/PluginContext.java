package ai.deepchat.policy.plugin;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * What a plugin gets for one call: the tenant, its configuration for this plugin, and a shared HTTP
 * client that never follows redirects (see {@link OutboundUrlGuard} before using it).
 */
public record PluginContext(Vertx vertx, UUID tenantId, JsonObject config, HttpClient httpClient) {
}
