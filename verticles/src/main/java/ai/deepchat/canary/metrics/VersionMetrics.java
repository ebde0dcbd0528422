package ai.deepchat.canary.metrics;

import ai.deepchat.canary.guard.Outcome;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.metrics.TenantLabels;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;

/**
 * Per-version series on the node's Prometheus registry (scraped at /metrics). Labels stay bounded and
 * name no tenant: {@code tenant} ("platform" for platform versions, else the tenant's
 * {@link TenantLabels} value: a hash bucket unless the operator lists it in METRICS_TENANTS),
 * {@code version} (a platform version's name; a tenant's version as {@link TenantLabels#opaque} of its
 * id, never the name the tenant chose), {@code role} (stable or candidate). No-ops when metrics are off.
 */
public final class VersionMetrics {

  private VersionMetrics() {
  }

  /** The {@code tenant} label of a version's series. */
  public static String tenantLabel(ModelVersion v) {
    return v.tenantId() == null ? "platform" : PlatformMetrics.get().tenantLabels().label(v.tenantId().toString());
  }

  /** The {@code version} label of a version's series. */
  public static String versionLabel(ModelVersion v) {
    return v.tenantId() == null ? v.name() : TenantLabels.opaque(v.id().toString());
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
