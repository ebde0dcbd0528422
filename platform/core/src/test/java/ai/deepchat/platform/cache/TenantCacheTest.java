package ai.deepchat.platform.cache;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.policy.PolicyMessages.TenantPolicyChanged;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.failure;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/** The one per-tenant cache policy: shared loads, bus invalidation, age, bound, failures never kept. */
@ExtendWith(VertxExtension.class)
class TenantCacheTest {

  private static final Duration LONG = Duration.ofMinutes(5);

  /** Counts loads per tenant; each load answers "tenant#n". */
  private final Map<UUID, AtomicInteger> loads = new ConcurrentHashMap<>();

  private Future<String> load(UUID tenant) {
    return Future.succeededFuture(tenant + "#" + loads.computeIfAbsent(tenant, t -> new AtomicInteger()).incrementAndGet());
  }

  @BeforeAll
  static void codecs(Vertx vertx) {
    Codecs.registerAll(vertx);
  }

  @Test
  void aValueIsLoadedOnceAndSharedUntilAPolicyChangeNamesItsTenant(Vertx vertx) throws Exception {
    TenantCache<String> cache = TenantCache.create(vertx, LONG, this::load);
    await(cache.ready());
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    assertThat(await(cache.get(a))).isEqualTo(a + "#1");
    assertThat(await(cache.get(a))).isEqualTo(a + "#1");
    assertThat(await(cache.get(b))).isEqualTo(b + "#1");
    vertx.eventBus().publish(Addresses.POLICY_CHANGED, new TenantPolicyChanged(a.toString()));
    until("the change dropped the tenant's entry", Duration.ofSeconds(10), () -> await(cache.get(a)).equals(a + "#2"));
    assertThat(await(cache.get(b))).as("another tenant keeps its entry").isEqualTo(b + "#1");
    vertx.eventBus().publish(Addresses.POLICY_CHANGED, new TenantPolicyChanged("not a uuid"));
    await(cache.close());
  }

  @Test
  void callersDuringALoadShareItAndAnInvalidationStartsAFreshOne(Vertx vertx) throws Exception {
    Promise<String> first = Promise.promise();
    AtomicInteger calls = new AtomicInteger();
    TenantCache<String> cache = TenantCache.create(vertx, LONG,
        t -> calls.incrementAndGet() == 1 ? first.future() : Future.succeededFuture("fresh"));
    UUID tenant = UUID.randomUUID();
    Future<String> one = cache.get(tenant);
    Future<String> two = cache.get(tenant);
    assertThat(calls).hasValue(1);
    cache.invalidate(tenant); // the load in flight may have read the old settings
    assertThat(await(cache.get(tenant))).isEqualTo("fresh");
    first.complete("stale");
    assertThat(await(one)).isEqualTo("stale");
    assertThat(await(two)).isEqualTo("stale");
    assertThat(await(cache.get(tenant))).isEqualTo("fresh");
    await(cache.close());
  }

  @Test
  void aFailedLoadIsNeverServedAgain(Vertx vertx) throws Exception {
    AtomicInteger calls = new AtomicInteger();
    TenantCache<String> cache = TenantCache.create(vertx, LONG, t -> switch (calls.incrementAndGet()) {
      case 1 -> Future.failedFuture("database down");
      case 2 -> throw new IllegalStateException("pool closed");
      default -> Future.succeededFuture("loaded");
    });
    UUID tenant = UUID.randomUUID();
    assertThat(failure(cache.get(tenant))).hasMessage("database down");
    assertThat(failure(cache.get(tenant))).hasMessage("pool closed");
    assertThat(await(cache.get(tenant))).isEqualTo("loaded");
    assertThat(await(cache.get(tenant))).isEqualTo("loaded");
    assertThat(calls).hasValue(3);
    await(cache.close());
  }

  @Test
  void entriesExpireAfterTheirAge(Vertx vertx) throws Exception {
    TenantCache<String> cache = TenantCache.create(vertx, Duration.ofMillis(200), this::load);
    UUID tenant = UUID.randomUUID();
    assertThat(await(cache.get(tenant))).isEqualTo(tenant + "#1");
    until("the entry expired", Duration.ofSeconds(10), () -> !await(cache.get(tenant)).endsWith("#1"));
    await(cache.close());
  }

  @Test
  void theNumberOfTenantsIsBoundedAtOnce(Vertx vertx) throws Exception {
    TenantCache<String> cache = TenantCache.create(vertx, LONG, 3, this::load);
    for (int i = 0; i < 50; i++) {
      await(cache.get(UUID.randomUUID()));
    }
    assertThat(cache.size()).isLessThanOrEqualTo(3);
    await(cache.close());
  }
}
