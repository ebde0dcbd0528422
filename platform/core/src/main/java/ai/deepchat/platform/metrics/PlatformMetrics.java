package ai.deepchat.platform.metrics;

import ai.deepchat.platform.db.PoolUses;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
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
import java.util.concurrent.TimeUnit;
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
  /**
   * Added-latency buckets (the platform's share of a token's or a first token's latency): the load
   * targets (10 ms, 50 ms p99) sit on bucket edges, so "p99 under the target" is read exactly.
   */
  static final Duration[] ADDED_BUCKETS = {Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
      Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofMillis(1000),
      Duration.ofMillis(2500), Duration.ofMillis(10000)};
  /** Per-stream decode speed buckets, tokens per second. */
  static final double[] TPS_BUCKETS = {1, 5, 10, 20, 30, 50, 75, 100, 150, 200, 400};

  private static volatile PlatformMetrics installed;

  private final MeterRegistry registry;
  private final TenantLabels tenants;
  private final Map<String, String> models = new ConcurrentHashMap<>();
  private final java.util.Set<Object> keptForMeters = ConcurrentHashMap.newKeySet();
  // recorded per delivered token: looked up once per channel, not built per call
  private final Map<String, Timer> addedLatency = new ConcurrentHashMap<>();
  /** Per cache its miss and hit counters, found once: a lookup happens on every request. */
  private final Map<String, Counter[]> cacheCounters = new ConcurrentHashMap<>();
  private final Map<String, Timer> addedTtft = new ConcurrentHashMap<>();
  /** Per tenant and model label their streams' meters: every turn starts a stream (bounded as the labels are). */
  private final Map<StreamKey, StreamMeters> streamMeters = new ConcurrentHashMap<>();

  private record StreamKey(String tenant, String model) {
  }

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
    StreamKey key = new StreamKey(tenants.label(tenant), model(modelVersion));
    StreamMeters meters = streamMeters.get(key);
    if (meters == null) {
      meters = streamMeters.computeIfAbsent(key, k -> new StreamMeters(this, k.tenant(), k.model()));
    }
    return new StreamMetrics(meters, registry.config().clock());
  }

  /** deepchat_cache_requests_total{cache, result=hit|miss}: hit rate = hits / all. */
  public void cacheLookup(String cache, boolean hit) {
    cacheCounters.computeIfAbsent(cache, c -> new Counter[] {
        registry.counter("deepchat.cache.requests", "cache", c, "result", "miss"),
        registry.counter("deepchat.cache.requests", "cache", c, "result", "hit")})[hit ? 1 : 0].increment();
  }

  /** deepchat_moderation_hits_total{tenant, direction=input|output, action=mask|block}. */
  public void moderationHit(String tenant, String direction, String action) {
    registry.counter("deepchat.moderation.hits", "tenant", tenants.label(tenant),
        "direction", direction, "action", action).increment();
  }

  /**
   * deepchat_platform_added_latency_seconds{channel}: for one delta generated by the local engine, from
   * the worker emitting it to the gateway writing it to the client's connection. {@code channel}: api
   * or widget (a fixed small set).
   */
  public void addedLatency(String channel, long micros) {
    addedLatency.computeIfAbsent(channel, c -> Timer.builder("deepchat.platform.added.latency").tag("channel", c)
            .description("Engine emit to gateway write of one streamed delta (the platform's share of its latency)")
            .serviceLevelObjectives(ADDED_BUCKETS).minimumExpectedValue(ADDED_BUCKETS[0])
            .maximumExpectedValue(ADDED_BUCKETS[ADDED_BUCKETS.length - 1]).register(registry))
        .record(Math.max(0, micros), TimeUnit.MICROSECONDS);
  }

  /**
   * deepchat_platform_added_ttft_seconds{channel}: time to first token at the gateway (turn started to
   * first delta written) minus the engine's own (request received to first token emitted).
   */
  public void addedTimeToFirstToken(String channel, long micros) {
    addedTtft.computeIfAbsent(channel, c -> Timer.builder("deepchat.platform.added.ttft").tag("channel", c)
            .description("Time to first token at the gateway minus the engine's own time to first token")
            .serviceLevelObjectives(ADDED_BUCKETS).minimumExpectedValue(ADDED_BUCKETS[0])
            .maximumExpectedValue(ADDED_BUCKETS[ADDED_BUCKETS.length - 1]).register(registry))
        .record(Math.max(0, micros), TimeUnit.MICROSECONDS);
  }

  /**
   * deepchat_stream_gaps_total{stream=turn|generation}: streams ended because the bus lost one of their
   * events between nodes (turn: pipeline to edge; generation: engine worker to pipeline).
   */
  public void streamGap(String stream) {
    registry.counter("deepchat.stream.gaps", "stream", stream).increment();
  }

  /** deepchat_gateway_shed_total{reason=overload|draining|no_majority}: requests refused with 503 at the gateway. */
  public void shed(String reason) {
    registry.counter("deepchat.gateway.shed", "reason", reason).increment();
  }

  /**
   * Registers a worker's meters, read at scrape time: deepchat_worker_queue_depth (requests waiting
   * for a batch slot), deepchat_worker_kv_cache_usage_ratio (0..1 of KV blocks in use) and
   * deepchat_worker_generated_tokens_total. Close the returned handle when the worker stops.
   */
  public AutoCloseable registerWorker(String workerId, String modelVersion, Supplier<Number> queueDepth,
                                      Supplier<Number> kvCacheUsage, Supplier<Number> generatedTokens) {
    Tags tags = Tags.of("worker", workerId, "model", model(modelVersion));
    List<Meter> meters = List.of(
        Gauge.builder("deepchat.worker.queue.depth", queueDepth).tags(tags)
            .description("Generation requests waiting for a batch slot").register(registry),
        Gauge.builder("deepchat.worker.kv.cache.usage.ratio", kvCacheUsage).tags(tags)
            .description("Fraction of KV-cache blocks in use").register(registry),
        FunctionCounter.builder("deepchat.worker.generated.tokens", generatedTokens,
                g -> g.get().doubleValue()).tags(tags)
            .description("Tokens this worker's engine generated (rate: the worker's tokens/s)").register(registry));
    // Micrometer holds a function counter's object weakly, and callers pass a supplier made at the call:
    // held here until close, or the counter froze at its value of the first GC
    keptForMeters.add(generatedTokens);
    return () -> {
      meters.forEach(registry::remove);
      keptForMeters.remove(generatedTokens);
    };
  }

  /**
   * Registers a clustered node's gauges: deepchat_cluster_members (members it sees, itself included)
   * and deepchat_cluster_majority (1 while it may take new chats, 0 while cut off from the majority).
   */
  public void registerCluster(Supplier<Number> members, Supplier<Boolean> majority) {
    Gauge.builder("deepchat.cluster.members", members)
        .description("Cluster members this node sees, itself included").register(registry);
    Gauge.builder("deepchat.cluster.majority", () -> majority.get() ? 1 : 0)
        .description("1 while this node sees the cluster quorum (takes new chats), 0 while cut off").register(registry);
  }

  private volatile Supplier<PoolUses> poolUses = () -> new PoolUses(0, 0, 0);

  /**
   * The per-event-loop pools' uses by how each was served (#25): {@code deepchat_db_pool_uses_total} with
   * {@code served} own, borrowed (another loop's idle connection) or waited (every pool busy).
   */
  public void registerPoolUses(Supplier<PoolUses> uses) {
    poolUses = uses; // held here: a function counter keeps only a weak reference to what it reads
    for (String served : List.of("own", "borrowed", "waited")) {
      FunctionCounter.builder("deepchat.db.pool.uses", this, m -> switch (served) {
            case "own" -> m.poolUses.get().own();
            case "borrowed" -> m.poolUses.get().borrowed();
            default -> m.poolUses.get().waited();
          })
          .tag("served", served)
          .description("Uses of the per-event-loop database pools by how they were served").register(registry);
    }
  }

  /** Counts {@code n} of this node's event-bus subscriptions (or its endpoint) re-added to the cluster map. */
  public void clusterSubscriptionsHealed(int n) {
    Counter.builder("deepchat.cluster.subscriptions.healed")
        .description("This node's event-bus subscriptions it found missing from the cluster map and re-added")
        .register(registry).increment(n);
  }

  /** Counts {@code n} event-bus routes this node found differing from the cluster map and refreshed. */
  public void clusterRoutesRefreshed(int n) {
    Counter.builder("deepchat.cluster.routes.refreshed")
        .description("Event-bus routes (addresses) whose cached subscribers differed from the cluster map and were refreshed")
        .register(registry).increment(n);
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
