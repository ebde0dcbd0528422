package ai.deepchat.platform.cache;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.concurrent.CallerContext;
import ai.deepchat.platform.policy.PolicyMessages.TenantPolicyChanged;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;

import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;

/**
 * The one policy for what a node caches per tenant (moderation lists, request limits, plugin configs,
 * routing data): at most {@link #MAX_TENANTS} tenants, each entry dropped {@code maxAge} after its load
 * began, and at once when {@link Addresses#POLICY_CHANGED} names its tenant (published by any node after
 * an admin change; the bus is best-effort, so the age is the safety net). A load in flight is shared by
 * every caller; a failed load is never served, so the next call tries again. Thread-safe: one cache
 * serves every verticle instance of a node, and each caller's future completes on its own context.
 */
public final class TenantCache<V> {

  /** Tenants kept per cache; the least recently used beyond it go first. */
  public static final int MAX_TENANTS = 10_000;

  private final Cache<UUID, Future<V>> entries;
  private final Function<UUID, Future<V>> load;
  private final MessageConsumer<TenantPolicyChanged> invalidations;

  private TenantCache(Vertx vertx, Duration maxAge, int maxTenants, Function<UUID, Future<V>> load) {
    // Maintenance (eviction) runs on the calling thread, as in ResponseCache: on the common pool a busy
    // node let caches run far past their bound before the task got a turn.
    this.entries = Caffeine.newBuilder().maximumSize(maxTenants).expireAfterWrite(maxAge)
        .executor(Runnable::run).build();
    this.load = tenantId -> {
      try {
        return load.apply(tenantId);
      } catch (RuntimeException e) { // a load that throws fails like one whose future failed
        return Future.failedFuture(e);
      }
    };
    this.invalidations = vertx.eventBus().consumer(Addresses.POLICY_CHANGED, msg -> {
      try {
        invalidate(UUID.fromString(msg.body().tenantId()));
      } catch (IllegalArgumentException ignored) {
        // a malformed id names no tenant: nothing cached under it
      }
    });
  }

  /** A cache of {@code load}'s results, subscribed to policy changes until {@link #close()}. */
  public static <V> TenantCache<V> create(Vertx vertx, Duration maxAge, Function<UUID, Future<V>> load) {
    return new TenantCache<>(vertx, maxAge, MAX_TENANTS, load);
  }

  /** As {@link #create} with another bound (tests of the bound). */
  static <V> TenantCache<V> create(Vertx vertx, Duration maxAge, int maxTenants, Function<UUID, Future<V>> load) {
    return new TenantCache<>(vertx, maxAge, maxTenants, load);
  }

  /** The tenant's value: cached, being loaded, or loaded now. */
  public Future<V> get(UUID tenantId) {
    Future<V> loaded = entries.get(tenantId, load);
    // a failure goes to the callers of this load only; the next call loads afresh
    loaded.onFailure(err -> entries.asMap().remove(tenantId, loaded));
    return CallerContext.bind(loaded);
  }

  /** Drops the tenant's entry on this node (a load in flight is no longer handed out). */
  public void invalidate(UUID tenantId) {
    entries.invalidate(tenantId);
  }

  /** Tenants with an entry now (for tests of the bound). */
  long size() {
    entries.cleanUp();
    return entries.estimatedSize();
  }

  /** Completes once the invalidation subscription has reached the cluster. */
  public Future<Void> ready() {
    return invalidations.completion();
  }

  public Future<Void> close() {
    return invalidations.unregister();
  }
}
