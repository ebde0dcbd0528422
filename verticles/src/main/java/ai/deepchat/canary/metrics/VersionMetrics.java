package ai.deepchat.canary.metrics;

import ai.deepchat.canary.guard.Outcome;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;

/**
 * Per-version series on the node's Prometheus registry (scraped at /metrics). Labels stay bounded:
 * {@code tenant} (tenant id, or "platform" for platform versions), {@code version} (the version's
 * name, unique within its tenant), {@code role} (stable or candidate). No-ops when metrics are off.
 */
public final class VersionMetrics {

  private VersionMetrics() {
  }

  /**
   * deepchat_model_requests_total, deepchat_model_errors_total, deepchat_model_ttft_seconds,
   * deepchat_model_tokens_per_second and deepchat_model_moderation_hits_total.
   */
  public static void request(String tenant, String version, String role, Outcome o) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry == null) {
      return;
    }
    registry.counter("deepchat_model_requests", "tenant", tenant, "version", version, "role", role).increment();
    if (!o.ok()) {
      registry.counter("deepchat_model_errors", "tenant", tenant, "version", version, "role", role).increment();
    }
    if (o.ttftMillis() >= 0) {
      Timer.builder("deepchat_model_ttft").tags("tenant", tenant, "version", version, "role", role)
          .publishPercentiles(0.5, 0.95).register(registry).record(Duration.ofMillis(o.ttftMillis()));
    }
    if (o.tokensPerSecond() >= 0) {
      DistributionSummary.builder("deepchat_model_tokens_per_second").tags("tenant", tenant, "version", version)
          .register(registry).record(o.tokensPerSecond());
    }
    if (o.moderationHit()) {
      registry.counter("deepchat_model_moderation_hits", "tenant", tenant, "version", version).increment();
    }
  }

  /** deepchat_model_feedback_total{value="up|down"}. */
  public static void feedback(String tenant, String version, int value) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      registry.counter("deepchat_model_feedback", "tenant", tenant, "version", version,
          "value", value > 0 ? "up" : "down").increment();
    }
  }

  /** deepchat_model_shadow_comparisons_total{agreed="true|false|error"} for the candidate version. */
  public static void shadow(String tenant, String version, String agreed) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      registry.counter("deepchat_model_shadow_comparisons", "tenant", tenant, "version", version,
          "agreed", agreed).increment();
    }
  }

  /** deepchat_model_rollbacks_total{automatic="true|false"}. */
  public static void rollback(String tenant, boolean automatic) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      registry.counter("deepchat_model_rollbacks", "tenant", tenant, "automatic", String.valueOf(automatic)).increment();
    }
  }
}
