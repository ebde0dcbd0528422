package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import io.vertx.core.json.JsonObject;

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
  public static JsonObject create(Node node, String origin, int maxTokens, double temperature) throws Exception {
    JsonObject settings = new JsonObject().put("max_tokens", maxTokens).put("temperature", temperature);
    return BenchTenants.create(node, "bench", origin, settings, BenchTenants.Limits.UNLIMITED);
  }
}
