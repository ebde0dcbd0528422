package ai.deepchat.platform.db;

import java.util.UUID;

/**
 * Per-node memory of one value per tenant read on a hot path (e.g. its chat settings), so the path can skip
 * the read. A trigger announces on {@link #channel()} every change of the rows the value is made of, with the
 * tenant's id as payload ({@code *}: every tenant); the entry goes when the notification arrives. Served
 * only while listening; a read that raced a change is not kept ({@link ListenGuard}).
 */
public final class TenantValues<T> extends ListenedMemory<UUID, T> {

  /** {@code metric}: the cache's name in {@code deepchat_cache_requests_total}. */
  public TenantValues(String channel, String metric, long maxEntries) {
    super(channel, metric, maxEntries);
  }

  /** The tenant's value; null when not known, and whenever not listening. */
  public T get(UUID tenantId) {
    return lookup(tenantId);
  }

  /** Remembers a value read since {@link #begin()} returned {@code startedAt}, unless anything changed since. */
  public void offer(UUID tenantId, T value, long startedAt) {
    remember(tenantId, value, startedAt);
  }

  /** The tenant's id as the trigger sends it; {@code *} (or anything else) forgets every tenant's. */
  @Override
  public void invalidate(String payload) {
    forget(parse(payload));
  }

  private static UUID parse(String payload) {
    try {
      return UUID.fromString(payload);
    } catch (IllegalArgumentException | NullPointerException e) {
      return null;
    }
  }
}
