package ai.deepchat.policy.plugin;

import ai.deepchat.platform.outbound.OutboundPolicy;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * What a plugin gets for one call: the tenant, its configuration for this plugin, a shared HTTP client
 * that never follows redirects, and the node's {@link OutboundPolicy}, through which every call to a
 * URL the tenant configured must go (checked and pinned to the checked address).
 */
public record PluginContext(Vertx vertx, UUID tenantId, JsonObject config, HttpClient httpClient,
                            OutboundPolicy outbound) {

  /** For plugins that call nothing: every internal address refused. */
  public PluginContext(Vertx vertx, UUID tenantId, JsonObject config, HttpClient httpClient) {
    this(vertx, tenantId, config, httpClient, OutboundPolicy.strict());
  }
}
