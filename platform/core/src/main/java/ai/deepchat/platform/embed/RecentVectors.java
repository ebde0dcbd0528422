package ai.deepchat.platform.embed;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.UUID;

/**
 * The vectors of texts embedded lately, per tenant, model and kind (compared with texts of its own kind,
 * or searched behind the model's query instruction), for the questions the intent router and the
 * retriever embed on every turn: support traffic repeats its questions, and an embedding costs
 * milliseconds of CPU where a lookup costs a microsecond. One cache per JVM, as the models are
 * ({@link #SHARED}), bounded by the memory its entries take (Caffeine's size-based eviction). Keyed by
 * tenant: like every cache outside row-level security it shares nothing between tenants, not even
 * whether a question was asked (a hit is faster). A vector handed out is shared: never change it.
 * Blocking on a miss (the model runs): call on the embeddings pool.
 */
public final class RecentVectors {

  /** The node's: 8 MiB, some 3,500 short questions' bge-small-zh vectors. */
  public static final RecentVectors SHARED = new RecentVectors(8L << 20);

  private record Key(UUID tenant, String model, boolean query, String text) {
  }

  private final Cache<Key, float[]> cache;

  /** @param maxBytes the most the entries may take, texts and vectors counted */
  public RecentVectors(long maxBytes) {
    this.cache = Caffeine.newBuilder().maximumWeight(maxBytes)
        .weigher((Key k, float[] v) -> 64 + 2 * k.text().length() + 4 * v.length)
        .executor(Runnable::run) // evicts on the caller's worker thread, at once: the bound holds
        .recordStats()
        .build();
  }

  /** {@link Embedder#embed} of {@code text} for {@code tenant}: the cached vector or a new one. */
  public float[] embed(UUID tenant, Embedder model, String text) {
    return vector(new Key(tenant, model.name(), false, text), model);
  }

  /** {@link Embedder#embedQuery} of {@code query} for {@code tenant}: the cached vector or a new one. */
  public float[] embedQuery(UUID tenant, Embedder model, String query) {
    return vector(new Key(tenant, model.name(), true, query), model);
  }

  /** Forgets every vector (benches that measure the embedding itself). */
  public void clear() {
    cache.invalidateAll();
  }

  /** Lookups answered from the cache so far (tests, benches). */
  public long hits() {
    return cache.stats().hitCount();
  }

  private float[] vector(Key key, Embedder model) {
    float[] cached = cache.getIfPresent(key);
    if (cached != null) {
      return cached;
    }
    // not computed inside the cache's lock: a model run takes milliseconds, and two threads embedding
    // the same new question at once is rare and harmless (the same vector twice)
    float[] vector = key.query() ? model.embedQuery(key.text()) : model.embed(key.text());
    cache.put(key, vector);
    return vector;
  }
}
