package ai.deepchat.chat.cache;

import ai.deepchat.platform.chat.ChatMessages.Citation;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Answers to repeated questions. The key holds everything the answer depends on: the tenant, the
 * normalized question, the knowledge-base version (an edit to the knowledge base changes it), the
 * model version and the intent path; only deterministic paths are cached (FAQ, temperature 0), and only
 * first turns of a conversation, since later answers depend on the history. Bounded in size and age;
 * the hit rate is exported as {@code deepchat_chat_cache_requests_total{result}} and
 * {@code deepchat_chat_cache_hit_ratio}. One per node, shared by every conversation verticle instance
 * (a cache per instance would divide the hit rate by their number): Caffeine and the counters are
 * thread-safe, and the gauge is registered once, by the one instance.
 */
public final class ResponseCache {

  public record Key(String tenantId, String question, String knowledgeBaseId, long knowledgeBaseVersion,
                    String model, String intent) {
  }

  public record Answer(String content, String reasoning, List<Citation> citations) {
  }

  private final Cache<Key, Answer> cache;
  private final Counter hits;
  private final Counter misses;

  public ResponseCache(long maxEntries, Duration ttl) {
    // Eviction runs on the calling thread: on the default common pool a busy two-core node let the
    // cache run far past its bound before the maintenance task got a turn.
    this.cache = Caffeine.newBuilder().maximumSize(maxEntries).expireAfterWrite(ttl)
        .executor(Runnable::run).build();
    MeterRegistry registry = registry();
    this.hits = Counter.builder("deepchat.chat.cache.requests").tag("result", "hit")
        .description("Response cache lookups").register(registry);
    this.misses = Counter.builder("deepchat.chat.cache.requests").tag("result", "miss")
        .description("Response cache lookups").register(registry);
    Gauge.builder("deepchat.chat.cache.hit.ratio", this, ResponseCache::hitRatio)
        .description("Share of response cache lookups answered from the cache").register(registry);
  }

  private static final MeterRegistry LOCAL = new SimpleMeterRegistry();

  /** The Vert.x metrics registry when metrics are on (Prometheus /metrics), else a local one. */
  public static MeterRegistry registry() {
    MeterRegistry vertxRegistry = BackendRegistries.getDefaultNow();
    return vertxRegistry != null ? vertxRegistry : LOCAL;
  }

  public static Key key(String tenantId, String question, String kbId, long kbVersion, String model, String intent) {
    return new Key(tenantId, QuestionNormalizer.normalize(question), kbId, kbVersion, model, intent);
  }

  public Optional<Answer> get(Key key) {
    Answer answer = cache.getIfPresent(key);
    (answer == null ? misses : hits).increment();
    return Optional.ofNullable(answer);
  }

  public void put(Key key, Answer answer) {
    cache.put(key, answer);
  }

  public double hitRatio() {
    double h = hits.count();
    double total = h + misses.count();
    return total == 0 ? 0 : h / total;
  }
}
