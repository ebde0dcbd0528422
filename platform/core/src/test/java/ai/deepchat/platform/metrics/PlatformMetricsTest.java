package ai.deepchat.platform.metrics;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The facade against real Micrometer registries: what it records and what Prometheus scrapes. */
class PlatformMetricsTest {

  private final MockClock clock = new MockClock();

  @Test
  void streamRecordsTimeToFirstTokenInterTokenLatencyAndSpeed() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
    PlatformMetrics metrics = new PlatformMetrics(registry, new TenantLabels(List.of("acme"), 4));

    StreamMetrics s = metrics.startStream("acme", "r1-1.5b@3");
    clock.add(Duration.ofMillis(800));
    s.tokens(1);
    clock.add(Duration.ofMillis(100));
    s.tokens(2); // 50 ms each
    clock.add(Duration.ofMillis(40));
    s.tokens(1);
    s.finish(StreamMetrics.Outcome.COMPLETE);
    s.finish(StreamMetrics.Outcome.ERROR); // ignored: a stream ends once

    var ttft = registry.get("deepchat.time.to.first.token").tags("tenant", "acme", "model", "r1-1.5b@3").timer();
    assertThat(ttft.count()).isEqualTo(1);
    assertThat(ttft.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(800.0);
    var itl = registry.get("deepchat.inter.token.latency").timer();
    assertThat(itl.count()).isEqualTo(3);
    assertThat(itl.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(140.0);
    assertThat(itl.max(TimeUnit.MILLISECONDS)).isEqualTo(50.0);
    assertThat(registry.get("deepchat.generated.tokens").counter().count()).isEqualTo(4.0);
    assertThat(registry.get("deepchat.chat.streams").tag("outcome", "complete").counter().count()).isEqualTo(1.0);
    assertThat(registry.find("deepchat.chat.streams").tag("outcome", "error").counter()).isNull();
    // 3 tokens after the first, over 140 ms
    var tps = registry.get("deepchat.stream.tokens.per.second").summary();
    assertThat(tps.count()).isEqualTo(1);
    assertThat(tps.totalAmount()).isCloseTo(3 / 0.14, org.assertj.core.data.Offset.offset(1e-6));
  }

  /**
   * The pools' use counts, each served kind read through the supplier given once at start at every read, also
   * after collections (the metrics hold the supplier: a function counter keeps only a weak reference to its
   * state, and in a bench node the counts read 0 while the counter held the supplier itself; this test does not
   * reproduce that collection, it checks the registration).
   */
  @Test
  void poolUsesAreReadThroughTheSupplierAfterAGarbageCollection() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
    PlatformMetrics metrics = new PlatformMetrics(registry, new TenantLabels(List.of("acme"), 4));
    AtomicInteger borrowed = new AtomicInteger();
    metrics.registerPoolUses(() -> new ai.deepchat.platform.db.PoolUses(7, borrowed.get(), 2));
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20);
    }
    borrowed.set(5);
    assertThat(registry.get("deepchat.db.pool.uses").tag("served", "own").functionCounter().count()).isEqualTo(7.0);
    assertThat(registry.get("deepchat.db.pool.uses").tag("served", "borrowed").functionCounter().count()).isEqualTo(5.0);
    assertThat(registry.get("deepchat.db.pool.uses").tag("served", "waited").functionCounter().count()).isEqualTo(2.0);
  }

  @Test
  void streamsOfOneTenantAndModelShareMetersFoundOnlyWhenRecordedInto() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
    PlatformMetrics metrics = new PlatformMetrics(registry, new TenantLabels(List.of("acme"), 4));

    // an answer without model tokens (FAQ, cache) shows no latency or speed series, as before the meters were kept
    metrics.startStream("acme", "m").finish(StreamMetrics.Outcome.COMPLETE);
    assertThat(registry.find("deepchat.time.to.first.token").timer()).isNull();
    assertThat(registry.find("deepchat.inter.token.latency").timer()).isNull();
    assertThat(registry.find("deepchat.stream.tokens.per.second").summary()).isNull();

    for (int i = 0; i < 3; i++) {
      StreamMetrics s = metrics.startStream("acme", "m");
      s.tokens(1);
      clock.add(Duration.ofMillis(10));
      s.tokens(1);
      s.finish(i == 2 ? StreamMetrics.Outcome.CANCELLED : StreamMetrics.Outcome.COMPLETE);
    }
    metrics.startStream("acme", "other").tokens(1);

    assertThat(registry.get("deepchat.time.to.first.token").tags("tenant", "acme", "model", "m").timer().count())
        .isEqualTo(3);
    assertThat(registry.get("deepchat.generated.tokens").tags("model", "m").counter().count()).isEqualTo(6.0);
    assertThat(registry.get("deepchat.generated.tokens").tags("model", "other").counter().count()).isEqualTo(1.0);
    assertThat(registry.get("deepchat.chat.streams").tags("model", "m", "outcome", "complete").counter().count())
        .isEqualTo(3.0);
    assertThat(registry.get("deepchat.chat.streams").tags("model", "m", "outcome", "cancelled").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("deepchat.stream.tokens.per.second").tags("model", "m").summary().count()).isEqualTo(3);
  }

  @Test
  void prometheusOutputHasSloBucketsAndTheDocumentedNames() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PlatformMetrics metrics = new PlatformMetrics(registry, TenantLabels.hashed());
    StreamMetrics s = metrics.startStream(UUID.randomUUID().toString(), "m");
    s.tokens(1);
    s.tokens(1);
    s.finish(StreamMetrics.Outcome.INTERRUPTED);
    metrics.cacheLookup("faq", true);
    metrics.cacheLookup("faq", false);
    metrics.moderationHit("t", "output", "mask");
    metrics.shed("overload");
    AtomicInteger queue = new AtomicInteger(7);
    AutoCloseable worker = metrics.registerWorker("w1", "m", queue::get, () -> 0.25, () -> 42L);

    String text = registry.scrape();
    assertThat(text)
        .contains("deepchat_time_to_first_token_seconds_bucket{model=\"m\",tenant=\"bucket-")
        .contains("le=\"2.0\"")
        .contains("deepchat_inter_token_latency_seconds_bucket")
        .contains("deepchat_inter_token_latency_seconds_count")
        .contains("deepchat_generated_tokens_total")
        .contains("deepchat_stream_tokens_per_second_bucket")
        .contains("deepchat_chat_streams_total{model=\"m\",outcome=\"interrupted\"")
        .contains("deepchat_cache_requests_total{cache=\"faq\",result=\"hit\"} 1.0")
        .contains("deepchat_cache_requests_total{cache=\"faq\",result=\"miss\"} 1.0")
        .contains("deepchat_moderation_hits_total{action=\"mask\",direction=\"output\",tenant=\"bucket-")
        .contains("deepchat_gateway_shed_total{reason=\"overload\"} 1.0")
        .contains("deepchat_worker_queue_depth{model=\"m\",worker=\"w1\"} 7.0")
        .contains("deepchat_worker_kv_cache_usage_ratio{model=\"m\",worker=\"w1\"} 0.25")
        .contains("deepchat_worker_generated_tokens_total{model=\"m\",worker=\"w1\"} 42.0");
    queue.set(3);
    assertThat(registry.scrape()).contains("deepchat_worker_queue_depth{model=\"m\",worker=\"w1\"} 3.0");
    try {
      worker.close();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(registry.scrape()).doesNotContain("deepchat_worker_queue_depth");
  }

  @Test
  void workerMetersFollowTheirSuppliersAfterGarbageCollection() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PlatformMetrics metrics = new PlatformMetrics(registry, TenantLabels.hashed());
    java.util.concurrent.atomic.LongAdder tokens = new java.util.concurrent.atomic.LongAdder();
    AtomicInteger queue = new AtomicInteger();
    // as the worker registers them: suppliers made at the call, held by nothing but the registry
    AutoCloseable worker = metrics.registerWorker("w2", "m", queue::get, () -> 0.5, tokens::sum);
    tokens.add(5);
    assertThat(registry.scrape()).contains("deepchat_worker_generated_tokens_total{model=\"m\",worker=\"w2\"} 5.0");
    for (int i = 0; i < 3; i++) {
      System.gc(); // a weakly held supplier is cleared here, and its meter freezes at its last value
      Thread.sleep(50); // gives the collector time to clear the reference; nothing to poll for
    }
    tokens.add(7);
    queue.set(4);
    assertThat(registry.scrape())
        .contains("deepchat_worker_generated_tokens_total{model=\"m\",worker=\"w2\"} 12.0")
        .contains("deepchat_worker_queue_depth{model=\"m\",worker=\"w2\"} 4.0");
    worker.close();
  }

  @Test
  void tenantAndModelLabelsStayBoundedWhateverTheTraffic() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
    TenantLabels labels = new TenantLabels(List.of("VIP-Tenant"), 8);
    PlatformMetrics metrics = new PlatformMetrics(registry, labels);
    for (int i = 0; i < 2000; i++) {
      StreamMetrics s = metrics.startStream(UUID.randomUUID().toString(), "model-" + (i % 100));
      s.tokens(1);
      s.finish(StreamMetrics.Outcome.COMPLETE);
    }
    metrics.startStream("vip-tenant", "model-0").tokens(1);

    Set<String> tenants = new HashSet<>();
    Set<String> models = new HashSet<>();
    registry.find("deepchat.time.to.first.token").timers().forEach(t -> {
      tenants.add(t.getId().getTag("tenant"));
      models.add(t.getId().getTag("model"));
    });
    assertThat(tenants).hasSizeLessThanOrEqualTo(labels.maxValues()).contains("vip-tenant");
    assertThat(tenants).filteredOn(t -> t.startsWith("bucket-")).hasSize(8);
    assertThat(models).hasSize(PlatformMetrics.MAX_MODELS + 1).contains("other");
    // the same tenant always lands in the same bucket, across instances
    String id = UUID.randomUUID().toString();
    assertThat(new TenantLabels(List.of(), 8).label(id)).isEqualTo(labels.label(id));
    assertThat(new TenantLabels(List.of(), 0).label(id)).isEqualTo("other");
    assertThat(labels.label(null)).isEqualTo("none");
  }
}
