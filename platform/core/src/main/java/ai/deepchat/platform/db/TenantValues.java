package ai.deepchat.platform.db;

import ai.deepchat.platform.metrics.PlatformMetrics;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.UUID;

/**
 * Per-node memory of one value per tenant read on a hot path (e.g. its chat settings), so the path can skip
 * the read. A trigger announces on {@link #channel()} every change of the rows the value is made of, with the
 * tenant's id as payload ({@code *}: every tenant); the entry goes when the notification arrives. Served
 * only while listening; a read that raced a change is not kept ({@link ListenGuard}).
 */
public final class TenantValues<T> implements ListenedCache {

  private final String channel;
  private final String metric;
  private final Cache<UUID, T> entries;
  private final ListenGuard guard = new ListenGuard();

  /** {@code metric}: the cache's name in {@code deepchat_cache_requests_total}. */
  public TenantValues(String channel, String metric, long maxEntries) {
    this.channel = channel;
    this.metric = metric;
    this.entries = Caffeine.newBuilder().maximumSize(maxEntries).build();
  }

  @Override
  public String channel() {
    return channel;
  }

  /** Whether values are served now (a LISTEN is live). */
  public boolean live() {
    return guard.live();
  }

  /** The tenant's value; null when not known, and whenever not listening. */
  public T get(UUID tenantId) {
    if (!guard.live()) {
      return null;
    }
    T value = entries.getIfPresent(tenantId);
    PlatformMetrics.get().cacheLookup(metric, value != null);
    return value;
  }

  /** To call before the database read; pass the value to {@link #offer}. */
  public long begin() {
    return guard.begin();
  }

  /** Remembers a value read since {@link #begin()} returned {@code startedAt}, unless anything changed since. */
  public void offer(UUID tenantId, T value, long startedAt) {
    guard.keepIf(startedAt, () -> entries.put(tenantId, value));
  }

  /** The tenant's id as the trigger sends it; {@code *} (or anything else) forgets every tenant's. */
  @Override
  public void invalidate(String payload) {
    guard.invalidate(() -> {
      UUID tenant = parse(payload);
      if (tenant == null) {
        entries.invalidateAll();
      } else {
        entries.invalidate(tenant);
      }
    });
  }

  @Override
  public void reset(boolean listening) {
    guard.reset(listening, entries::invalidateAll);
  }

  private static UUID parse(String payload) {
    try {
      return UUID.fromString(payload);
    } catch (IllegalArgumentException | NullPointerException e) {
      return null;
    }
  }
}
