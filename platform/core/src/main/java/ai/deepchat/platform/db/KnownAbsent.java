package ai.deepchat.platform.db;

import ai.deepchat.platform.metrics.PlatformMetrics;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.UUID;

/**
 * Per-node memory of tenant-scoped ids known to have no row of some kind (e.g. a conversation without an
 * open handoff), so a hot path can skip the query that would find nothing. A trigger announces on
 * {@link #channel()} every change that can make such a row appear, with the payload
 * {@code <tenant>:<id>}; the entry goes when the notification arrives. Served only while listening.
 * A read that raced an invalidation is not kept ({@link ListenGuard}).
 */
public final class KnownAbsent implements ListenedCache {

  private final String channel;
  private final String metric;
  private final Cache<String, Boolean> entries;
  private final ListenGuard guard = new ListenGuard();

  /** {@code metric}: the cache's name in {@code deepchat_cache_requests_total}. */
  public KnownAbsent(String channel, String metric, long maxEntries) {
    this.channel = channel;
    this.metric = metric;
    this.entries = Caffeine.newBuilder().maximumSize(maxEntries).build();
  }

  @Override
  public String channel() {
    return channel;
  }

  /** Whether absences are served now (a LISTEN is live). */
  public boolean live() {
    return guard.live();
  }

  /** True when {@code id} of {@code tenantId} is known to have no row; false also whenever not listening. */
  public boolean absent(UUID tenantId, UUID id) {
    if (!guard.live()) {
      return false;
    }
    boolean hit = entries.getIfPresent(key(tenantId, id)) != null;
    PlatformMetrics.get().cacheLookup(metric, hit);
    return hit;
  }

  /** To call before the database read; pass the value to {@link #offer}. */
  public long begin() {
    return guard.begin();
  }

  /** Remembers an absence read since {@link #begin()} returned {@code startedAt}, unless anything changed since. */
  public void offer(UUID tenantId, UUID id, long startedAt) {
    guard.keepIf(startedAt, () -> entries.put(key(tenantId, id), Boolean.TRUE));
  }

  /** This node made such a row appear: forget the absence now, not when its own notification comes back. */
  public void invalidate(UUID tenantId, UUID id) {
    invalidate(key(tenantId, id));
  }

  /** {@code <tenant>:<id>}, as the trigger sends it (uuid text is lowercase on both sides). */
  @Override
  public void invalidate(String payload) {
    guard.invalidate(() -> entries.invalidate(payload));
  }

  @Override
  public void reset(boolean listening) {
    guard.reset(listening, entries::invalidateAll);
  }

  private static String key(UUID tenantId, UUID id) {
    return tenantId + ":" + id;
  }
}
