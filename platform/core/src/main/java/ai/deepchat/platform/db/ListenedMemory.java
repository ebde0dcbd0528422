package ai.deepchat.platform.db;

import ai.deepchat.platform.metrics.PlatformMetrics;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * What {@link KnownAbsent} and {@link TenantValues} share: a bounded per-node memory that serves only while its
 * LISTEN is live, keeps a read only if nothing changed since it began ({@link ListenGuard}), and counts its
 * lookups in {@code deepchat_cache_requests_total}. Subclasses say how a notification's payload names entries.
 */
abstract class ListenedMemory<K, V> implements ListenedCache {

  private final String channel;
  private final String metric;
  private final Cache<K, V> entries;
  private final ListenGuard guard = new ListenGuard();

  /** {@code metric}: the cache's name in {@code deepchat_cache_requests_total}. */
  ListenedMemory(String channel, String metric, long maxEntries) {
    this.channel = channel;
    this.metric = metric;
    this.entries = Caffeine.newBuilder().maximumSize(maxEntries).build();
  }

  @Override
  public final String channel() {
    return channel;
  }

  /** Whether entries are served now (a LISTEN is live). */
  public final boolean live() {
    return guard.live();
  }

  /** To call before the database read; pass the value to the subclass's offer. */
  public final long begin() {
    return guard.begin();
  }

  @Override
  public final void reset(boolean listening) {
    guard.reset(listening, entries::invalidateAll);
  }

  /** The entry; null when not known, and whenever not listening. */
  final V lookup(K key) {
    if (!guard.live()) {
      return null;
    }
    V value = entries.getIfPresent(key);
    PlatformMetrics.get().cacheLookup(metric, value != null);
    return value;
  }

  /** Keeps a value read since {@link #begin()} returned {@code startedAt}, unless anything changed since. */
  final void remember(K key, V value, long startedAt) {
    guard.keepIf(startedAt, () -> entries.put(key, value));
  }

  /** Forgets one entry, or every entry for a null key, as a change that races reads. */
  final void forget(K key) {
    guard.invalidate(() -> {
      if (key == null) {
        entries.invalidateAll();
      } else {
        entries.invalidate(key);
      }
    });
  }
}
