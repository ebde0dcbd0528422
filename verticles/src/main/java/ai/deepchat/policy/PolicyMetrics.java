package ai.deepchat.policy;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

/**
 * Policy counters on the node's Prometheus registry (scraped at /metrics): moderation outcomes,
 * rate-limit refusals and plugin hook failures. No-ops when metrics are off (tests, embedded use).
 */
public final class PolicyMetrics {

  private PolicyMetrics() {
  }

  /** deepchat_policy_moderation_total{direction="input|output", action="allow|mask|block"}. */
  public static void moderation(String direction, String action) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      registry.counter("deepchat_policy_moderation", "direction", direction, "action", action).increment();
    }
  }

  /** deepchat_policy_rate_limited_total{scope="tenant|api_key|visitor"}. */
  public static void rateLimited(String scope) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      registry.counter("deepchat_policy_rate_limited", "scope", scope).increment();
    }
  }

  /** deepchat_policy_plugin_failures_total{plugin, hook="pre|post"}: failed or timed-out hooks (plugins are few). */
  public static void pluginFailed(String plugin, String hook) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      registry.counter("deepchat_policy_plugin_failures", "plugin", plugin, "hook", hook).increment();
    }
  }
}
