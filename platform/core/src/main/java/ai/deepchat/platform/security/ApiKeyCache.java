package ai.deepchat.platform.security;

import ai.deepchat.platform.db.ListenGuard;
import ai.deepchat.platform.db.ListenedCache;
import ai.deepchat.platform.metrics.PlatformMetrics;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's cache of found API keys, keyed by key hash. It answers only while {@link AuthChangeVerticle}
 * holds a live LISTEN on {@link #CHANNEL} (V49's triggers announce every revocation, key deletion and
 * tenant status change there), so a change is refused on every node as soon as PostgreSQL delivers the
 * notification, never after a TTL. While not listening every lookup goes to the database, and each
 * (re)connect starts from an empty cache.
 *
 * <p>A lookup that read the database before an invalidation must not cache its result afterwards
 * ({@link ListenGuard}).
 */
public final class ApiKeyCache implements ListenedCache {

  /** The NOTIFY channel of V49's triggers. */
  public static final String CHANNEL = "deepchat_auth";
  /** Payload of a truncate: every entry goes. */
  static final String EVERYTHING = "*";
  /** Returned by {@link #begin()} when results must not be cached. */
  static final long NOT_CACHING = ListenGuard.NOT_CACHING;
  private static final long REFRESH_NANOS = 60_000_000_000L;

  /** A cached key, with when its last_used_at was last refreshed (at most once a minute). */
  static final class Entry {
    final ApiKeyLookup.Found found;
    private final AtomicLong refreshedAt;

    Entry(ApiKeyLookup.Found found, long refreshedAtNanos) {
      this.found = found;
      this.refreshedAt = new AtomicLong(refreshedAtNanos);
    }

    /** True for the one caller that should refresh last_used_at now. */
    boolean claimRefresh(long nowNanos) {
      long last = refreshedAt.get();
      return nowNanos - last >= REFRESH_NANOS && refreshedAt.compareAndSet(last, nowNanos);
    }
  }

  private final Cache<String, Entry> entries;
  private final ListenGuard guard = new ListenGuard();

  public ApiKeyCache(long maxEntries) {
    this.entries = Caffeine.newBuilder().maximumSize(maxEntries).build();
  }

  @Override
  public String channel() {
    return CHANNEL;
  }

  /** Whether lookups are served from the cache now (a LISTEN is live). */
  public boolean live() {
    return guard.live();
  }

  /** The cached key for {@code hash}, or null (also whenever the cache is not live). */
  Entry cached(String hash) {
    if (!guard.live()) {
      return null;
    }
    Entry e = entries.getIfPresent(hash);
    PlatformMetrics.get().cacheLookup("api_key", e != null);
    return e;
  }

  /** To call before a database lookup; pass the value to {@link #offer}. */
  long begin() {
    return guard.begin();
  }

  /** Caches a result read since {@link #begin()} returned {@code startedAt}, unless anything was invalidated since. */
  void offer(String hash, ApiKeyLookup.Found found, long startedAt, long nowNanos) {
    guard.keepIf(startedAt, () -> entries.put(hash, new Entry(found, nowNanos)));
  }

  /** A notification's payload: {@code <tenant>}, {@code <tenant>:<key>} or {@code *}. Unknown forms drop everything. */
  @Override
  public void invalidate(String payload) {
    int colon = payload.indexOf(':');
    try {
      if (EVERYTHING.equals(payload)) {
        reset(guard.live());
      } else if (colon < 0) {
        invalidateTenant(UUID.fromString(payload));
      } else {
        invalidateKey(UUID.fromString(payload.substring(colon + 1)));
      }
    } catch (IllegalArgumentException e) {
      reset(guard.live());
    }
  }

  /** Drops every key of a tenant (its status changed, or it was deleted). */
  public void invalidateTenant(UUID tenantId) {
    guard.invalidate(() -> entries.asMap().values().removeIf(e -> e.found.tenantId().equals(tenantId)));
  }

  /** Drops one key (revoked, re-hashed or deleted). */
  public void invalidateKey(UUID keyId) {
    guard.invalidate(() -> entries.asMap().values().removeIf(e -> e.found.keyId().equals(keyId)));
  }

  /** Empties the cache and starts (true: a LISTEN just succeeded) or stops (false: it was lost) serving from it. */
  @Override
  public void reset(boolean listening) {
    guard.reset(listening, entries::invalidateAll);
  }

  long generation() {
    return guard.generation();
  }
}
