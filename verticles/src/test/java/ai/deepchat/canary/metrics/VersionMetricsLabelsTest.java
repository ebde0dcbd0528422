package ai.deepchat.canary.metrics;

import ai.deepchat.canary.guard.CanaryOutcomes;
import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.VersionState;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.metrics.TenantLabels;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What /metrics shows of a tenant's model versions, read from a real Prometheus registry as the node
 * scrapes it: no tenant id and no name the tenant chose, only its hash bucket and an opaque version
 * label; platform versions keep the operator's names.
 */
class VersionMetricsLabelsTest {

  private static ModelVersion version(UUID tenant, String name) {
    return new ModelVersion(UUID.randomUUID(), tenant, name, Backend.OPENAI, "https://models.invalid/v1",
        new JsonObject(), null, VersionState.STABLE, Instant.now(), Instant.now(), Instant.now());
  }

  @Test
  void tenantIdsAndTenantChosenNamesNeverBecomeLabels() {
    Vertx vertx = Vertx.builder().with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))))
        .withMetrics(new MicrometerMetricsFactory()).build();
    PrometheusMeterRegistry registry = (PrometheusMeterRegistry) BackendRegistries.getDefaultNow();
    PlatformMetrics.install(new PlatformMetrics(registry, TenantLabels.hashed()));
    try {
      UUID tenant = UUID.randomUUID();
      ModelVersion own = version(tenant, "acme-secret-launch");
      ModelVersion platform = version(null, "deepseek-r1-2026");
      CanaryOutcomes outcomes = new CanaryOutcomes(null, null, Clock.systemUTC(), 60_000);
      outcomes.feedback(own, 1);
      outcomes.feedback(platform, -1);

      String text = registry.scrape();
      assertThat(text).contains("deepchat_model_feedback_total");
      assertThat(text).doesNotContain(tenant.toString()).doesNotContain("acme-secret-launch");
      assertThat(text).contains("tenant=\"" + TenantLabels.hashed().label(tenant.toString()) + "\"")
          .contains("version=\"" + TenantLabels.opaque(own.id().toString()) + "\"");
      assertThat(text).contains("tenant=\"platform\"").contains("version=\"deepseek-r1-2026\"");
    } finally {
      PlatformMetrics.install(null);
      vertx.close();
    }
  }
}
