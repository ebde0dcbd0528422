package ai.deepchat.policy;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

/**
 * Policy counters on the node's Prometheus registry (scraped at /metrics): moderation outcomes,
 * rate-limit refusals, plugin hook failures and stopped system-prompt leaks. No-ops when metrics are
 * off (tests, embedded use).
 */
public final class PolicyMetrics {

  private PolicyMetrics() {
  }

  /** deepchat_policy_moderation_total{direction="input|output", action="allow|mask|block"}. */
  public static void moderation(String direction, String action) {
    count("deepchat_policy_moderation", "direction", direction, "action", action);
  }

  /** deepchat_policy_rate_limited_total{scope="tenant|api_key|visitor"}. */
  public static void rateLimited(String scope) {
    count("deepchat_policy_rate_limited", "scope", scope);
  }

  /** deepchat_policy_plugin_failures_total{plugin, hook="pre|post"}: failed or timed-out hooks (plugins are few). */
  public static void pluginFailed(String plugin, String hook) {
    count("deepchat_policy_plugin_failures", "plugin", plugin, "hook", hook);
  }

  /** deepchat_policy_prompt_leaks_total: answers stopped because they recited the tenant's system prompt. */
  public static void promptLeak() {
    count("deepchat_policy_prompt_leaks");
  }

  /** deepchat_policy_tool_calls_dropped_total: model answers that proposed a tool call (none is ever run). */
  public static void toolCallDropped() {
    count("deepchat_policy_tool_calls_dropped");
  }

  private static void count(String name, String... tags) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      registry.counter(name, tags).increment();
    }
  }
}
