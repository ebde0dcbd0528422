package ai.deepchat.platform.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The platform's own metrics, one facade for every module, on the node's Prometheus registry
 * (scraped at {@code /metrics}). Names and labels are documented in docs/operations.md; labels are
 * bounded: tenants through {@link TenantLabels}, model versions capped at {@value #MAX_MODELS}
 * distinct values per node, everything else from fixed small sets.
 *
 * <p>Use {@link #get()} anywhere: it returns the instance the launcher installed, or one on Vert.x's
 * default registry, or a no-op one when metrics are off (unit tests).
 */
public final class PlatformMetrics {

  static final int MAX_MODELS = 32;

  /** Time-to-first-token buckets: the SLO (2 s) sits on a bucket edge so the alert is exact. */
  static final Duration[] TTFT_BUCKETS = millis(50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000);
  /** Inter-token latency buckets (per generated token). */
  static final Duration[] ITL_BUCKETS = millis(5, 10, 20, 30, 50, 75, 100, 150, 250, 500, 1000);
  /** Per-stream decode speed buckets, tokens per second. */
  static final double[] TPS_BUCKETS = {1, 5, 10, 20, 30, 50, 75, 100, 150, 200, 400};

  private static volatile PlatformMetrics installed;

  private final MeterRegistry registry;
  private final TenantLabels tenants;
  private final Map<String, String> models = new ConcurrentHashMap<>();

  public PlatformMetrics(MeterRegistry registry, TenantLabels tenants) {
    this.registry = registry;
    this.tenants = tenants;
  }

  /** Makes {@code metrics} the one {@link #get()} returns (the launcher calls this once at start). */
  public static PlatformMetrics install(PlatformMetrics metrics) {
    installed = metrics;
    return metrics;
  }

  public static PlatformMetrics get() {
    PlatformMetrics m = installed;
    if (m != null) {
      return m;
    }
    MeterRegistry r = BackendRegistries.getDefaultNow();
    return new PlatformMetrics(r != null ? r : new CompositeMeterRegistry(), TenantLabels.hashed());
  }

  public MeterRegistry registry() {
    return registry;
  }

  public TenantLabels tenantLabels() {
    return tenants;
  }

  /**
   * Starts timing one generated answer. Call {@link StreamMetrics#tokens} on every delta and
   * {@link StreamMetrics#finish} once at the end (done, error, cancel).
   */
  public StreamMetrics startStream(String tenant, String modelVersion) {
    Tags tags = Tags.of("tenant", tenants.label(tenant), "model", model(modelVersion));
    return new StreamMetrics(this, tags, registry.config().clock());
  }

  /** deepchat_cache_requests_total{cache, result=hit|miss}: hit rate = hits / all. */
  public void cacheLookup(String cache, boolean hit) {
    registry.counter("deepchat.cache.requests", "cache", cache, "result", hit ? "hit" : "miss").increment();
  }

  /** deepchat_moderation_hits_total{tenant, direction=input|output, action=mask|block}. */
  public void moderationHit(String tenant, String direction, String action) {
    registry.counter("deepchat.moderation.hits", "tenant", tenants.label(tenant),
        "direction", direction, "action", action).increment();
  }

  /** deepchat_gateway_shed_total{reason=overload|draining}: requests refused with 503 at the gateway. */
  public void shed(String reason) {
    registry.counter("deepchat.gateway.shed", "reason", reason).increment();
  }

  /**
   * Registers a worker's gauges, read at scrape time: deepchat_worker_queue_depth (requests waiting
   * for a batch slot) and deepchat_worker_kv_cache_usage_ratio (0..1 of KV blocks in use). Close the
   * returned handle when the worker stops.
   */
  public AutoCloseable registerWorker(String workerId, String modelVersion, Supplier<Number> queueDepth,
                                      Supplier<Number> kvCacheUsage) {
    Tags tags = Tags.of("worker", workerId, "model", model(modelVersion));
    List<Meter> meters = List.of(
        Gauge.builder("deepchat.worker.queue.depth", queueDepth).tags(tags)
            .description("Generation requests waiting for a batch slot").register(registry),
        Gauge.builder("deepchat.worker.kv.cache.usage.ratio", kvCacheUsage).tags(tags)
            .description("Fraction of KV-cache blocks in use").register(registry));
    return () -> meters.forEach(registry::remove);
  }

  Timer ttft(Tags tags) {
    return Timer.builder("deepchat.time.to.first.token").tags(tags)
        .description("From request accepted to first generated token")
        .serviceLevelObjectives(TTFT_BUCKETS).minimumExpectedValue(TTFT_BUCKETS[0])
        .maximumExpectedValue(TTFT_BUCKETS[TTFT_BUCKETS.length - 1]).register(registry);
  }

  Timer interToken(Tags tags) {
    return Timer.builder("deepchat.inter.token.latency").tags(tags)
        .description("Time between consecutive generated tokens")
        .serviceLevelObjectives(ITL_BUCKETS).minimumExpectedValue(ITL_BUCKETS[0])
        .maximumExpectedValue(ITL_BUCKETS[ITL_BUCKETS.length - 1]).register(registry);
  }

  Counter generatedTokens(Tags tags) {
    return Counter.builder("deepchat.generated.tokens").tags(tags)
        .description("Completion tokens delivered to clients").register(registry);
  }

  DistributionSummary tokensPerSecond(Tags tags) {
    return DistributionSummary.builder("deepchat.stream.tokens.per.second").tags(tags)
        .description("Decode speed of one answer after its first token")
        .serviceLevelObjectives(TPS_BUCKETS).register(registry);
  }

  Counter streams(Tags tags, String outcome) {
    return Counter.builder("deepchat.chat.streams").tags(tags).tag("outcome", outcome)
        .description("Answers finished, by outcome").register(registry);
  }

  /** The model label: the version name while fewer than MAX_MODELS are known, then "other". */
  String model(String modelVersion) {
    String v = modelVersion == null || modelVersion.isBlank() ? "none" : modelVersion;
    String known = models.get(v);
    if (known != null) {
      return known;
    }
    if (models.size() >= MAX_MODELS) {
      return TenantLabels.OTHER;
    }
    return models.computeIfAbsent(v, k -> k);
  }

  private static Duration[] millis(long... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofMillis(values[i]);
    }
    return out;
  }
}
