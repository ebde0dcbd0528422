package ai.deepchat.platform.db;

import java.util.UUID;

/**
 * Per-node memory of tenant-scoped ids known to have no row of some kind (e.g. a conversation without an
 * open handoff), so a hot path can skip the query that would find nothing. A trigger announces on
 * {@link #channel()} every change that can make such a row appear, with the payload
 * {@code <tenant>:<id>}; the entry goes when the notification arrives. Served only while listening.
 * A read that raced an invalidation is not kept ({@link ListenGuard}).
 */
public final class KnownAbsent extends ListenedMemory<String, Boolean> {

  /** {@code metric}: the cache's name in {@code deepchat_cache_requests_total}. */
  public KnownAbsent(String channel, String metric, long maxEntries) {
    super(channel, metric, maxEntries);
  }

  /** True when {@code id} of {@code tenantId} is known to have no row; false also whenever not listening. */
  public boolean absent(UUID tenantId, UUID id) {
    return lookup(key(tenantId, id)) != null;
  }

  /** Remembers an absence read since {@link #begin()} returned {@code startedAt}, unless anything changed since. */
  public void offer(UUID tenantId, UUID id, long startedAt) {
    remember(key(tenantId, id), Boolean.TRUE, startedAt);
  }

  /** This node made such a row appear: forget the absence now, not when its own notification comes back. */
  public void invalidate(UUID tenantId, UUID id) {
    invalidate(key(tenantId, id));
  }

  /** {@code <tenant>:<id>}, as the trigger sends it (uuid text is lowercase on both sides). */
  @Override
  public void invalidate(String payload) {
    forget(payload);
  }

  private static String key(UUID tenantId, UUID id) {
    return tenantId + ":" + id;
  }
}
