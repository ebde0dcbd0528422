package ai.deepchat.platform.security;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The API-key cache on real PostgreSQL: two "nodes" (two pools, each with its cache and LISTEN
 * connection) on one database; changes made with plain SQL, as an operator would.
 */
class ApiKeyCacheTest {

  private static final Duration NOTIFIED = Duration.ofSeconds(2);

  private static Vertx vertx;
  private static TestDatabase testDb;
  private static Database node1;
  private static Database node2;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    node1 = testDb.database();
    node2 = testDb.pool(vertx, 2);
    await(vertx.deployVerticle(new AuthChangeVerticle(node1)));
    await(vertx.deployVerticle(new AuthChangeVerticle(node2)));
    until("both caches live", NOTIFIED, () -> node1.apiKeys().live() && node2.apiKeys().live());
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void revokedWithSqlIsRefusedOnEveryNodeWithinTwoSeconds() throws Exception {
    Key k = newKey();
    assertFound(node1, k);
    assertFound(node2, k);
    assertThat(node1.apiKeys().cached(k.hash)).as("served from the cache").isNotNull();

    owner("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'");
    until("refused on both nodes", NOTIFIED, () -> find(node1, k).isEmpty() && find(node2, k).isEmpty());
  }

  @Test
  void deletedKeyAndSuspendedTenantAreSeenWithinTwoSeconds() throws Exception {
    Key suspended = newKey();
    Key deleted = newKey();
    assertFound(node2, suspended);
    assertFound(node2, deleted);

    owner("UPDATE tenants SET status = 'suspended' WHERE id = '" + suspended.tenant + "'");
    owner("DELETE FROM api_keys WHERE id = '" + deleted.id + "'");
    until("suspension seen", NOTIFIED, () -> !find(node2, suspended).orElseThrow().tenantActive());
    until("deletion seen", NOTIFIED, () -> find(node2, deleted).isEmpty());

    owner("UPDATE tenants SET status = 'active' WHERE id = '" + suspended.tenant + "'");
    until("reactivation seen", NOTIFIED, () -> find(node2, suspended).orElseThrow().tenantActive());
  }

  @Test
  void aLocalRevocationIsRefusedAtOnceHereAndOnTheOtherNodeByNotification() throws Exception {
    Key k = newKey();
    assertFound(node1, k);
    assertFound(node2, k);
    // what the console does: commit, then drop it locally before answering
    await(node1.inTenant(k.tenant, c -> c.preparedQuery("UPDATE api_keys SET revoked_at = now() WHERE id = $1")
        .execute(Tuple.of(k.id))));
    node1.apiKeys().invalidateKey(k.id);
    assertThat(find(node1, k)).isEmpty();
    until("refused on the other node", NOTIFIED, () -> find(node2, k).isEmpty());
  }

  /**
   * A lookup reads the key while its tenant is active, then waits on a row lock (its last_used_at
   * refresh) while the tenant is suspended and the notification processed: its now stale result must
   * not enter the cache.
   */
  @Test
  void aLookupInFlightDuringAnInvalidationDoesNotCacheItsStaleResult() throws Exception {
    Key k = newKey();
    ApiKeyCache cache = node1.apiKeys();
    try (Connection lock = testDb.ownerJdbc(); Statement s = lock.createStatement()) {
      lock.setAutoCommit(false);
      s.execute("SELECT 1 FROM api_keys WHERE id = '" + k.id + "' FOR UPDATE");
      Future<Optional<ApiKeyLookup.Found>> inFlight = ApiKeyLookup.find(node1, k.header());
      until("lookup waits on the row lock", NOTIFIED, () -> "t".equals(ownerValue(
          "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")));
      long before = cache.generation();
      owner("UPDATE tenants SET status = 'suspended' WHERE id = '" + k.tenant + "'");
      until("notification processed", NOTIFIED, () -> cache.generation() != before);
      lock.rollback();
      assertThat(await(inFlight).orElseThrow().tenantActive()).as("read before the suspension").isTrue();
    }
    assertThat(cache.cached(k.hash)).as("stale result kept out of the cache").isNull();
    assertThat(find(node1, k).orElseThrow().tenantActive()).isFalse();
  }

  @Test
  void whileTheListenConnectionIsDownLookupsReadTheDatabase() throws Exception {
    Key k = newKey();
    Key after = newKey();
    ApiKeyCache cache = node1.apiKeys();
    assertFound(node1, k);
    assertThat(cache.cached(k.hash)).isNotNull();

    // pool connections live on: only the LISTEN connection is killed (node2's too: both share the name)
    owner("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"
        + AuthChangeVerticle.APPLICATION_NAME + "' AND datname = current_database()");
    until("cache off", NOTIFIED, () -> !cache.live());
    owner("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'"); // nobody hears this
    assertThat(find(node1, k)).as("read from the database while not listening").isEmpty();

    until("listening again", Duration.ofSeconds(10), () -> cache.live() && node2.apiKeys().live());
    assertThat(find(node1, k)).isEmpty();
    assertFound(node1, after);
    assertThat(cache.cached(after.hash)).as("caching again").isNotNull();
  }

  /**
   * A LISTEN connection that stops carrying anything without closing (a firewall dropping an idle
   * connection): the ping notices, and the cache stops serving the change it did not hear.
   */
  @Test
  void aListenConnectionThatGoesSilentStopsTheCacheAfterAMissedPing() throws Exception {
    FreezingProxy proxy = FreezingProxy.start(vertx, node1.connectOptions().getPort());
    PgConnectOptions viaProxy = new PgConnectOptions(node1.connectOptions()).setHost("127.0.0.1").setPort(proxy.port);
    Database node3 = new Database(node1.pool(), viaProxy);
    String deployment = await(vertx.deployVerticle(new AuthChangeVerticle(node3, 300)));
    try {
      until("cache live", NOTIFIED, () -> node3.apiKeys().live());
      Key k = newKey();
      assertFound(node3, k);
      assertThat(node3.apiKeys().cached(k.hash)).isNotNull();

      proxy.frozen = true;
      owner("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'"); // lost in the proxy
      until("cache off after a missed ping", NOTIFIED, () -> !node3.apiKeys().live());
      assertThat(find(node3, k)).isEmpty();
    } finally {
      proxy.frozen = false;
      await(vertx.undeploy(deployment));
    }
  }

  /** Relays TCP to PostgreSQL on loopback; while frozen it drops every byte and keeps the sockets open. */
  private static final class FreezingProxy {
    final int port;
    volatile boolean frozen;

    private FreezingProxy(int port) {
      this.port = port;
    }

    static FreezingProxy start(Vertx vertx, int target) throws Exception {
      NetClient client = vertx.createNetClient();
      FreezingProxy[] self = new FreezingProxy[1];
      NetServer server = vertx.createNetServer().connectHandler(in -> {
        in.pause();
        client.connect(target, "127.0.0.1").onSuccess(out -> {
          in.handler(b -> {
            if (!self[0].frozen) {
              out.write(b);
            }
          });
          out.handler(b -> {
            if (!self[0].frozen) {
              in.write(b);
            }
          });
          in.closeHandler(v -> out.close());
          out.closeHandler(v -> in.close());
          in.resume();
        }).onFailure(e -> in.close());
      });
      self[0] = new FreezingProxy(await(server.listen(0, "127.0.0.1")).actualPort());
      return self[0];
    }
  }

  @Test
  void aCacheHitRefreshesLastUsedAtOnceAMinuteOffTheRequestsPath() throws Exception {
    Key k = newKey();
    ApiKeyCache cache = node1.apiKeys();
    ApiKeyLookup.Found found = find(node1, k).orElseThrow();
    owner("UPDATE api_keys SET last_used_at = NULL WHERE id = '" + k.id + "'");
    // cached as if its last refresh were 61 s ago
    cache.offer(k.hash, found, cache.begin(), System.nanoTime() - 61_000_000_000L);
    assertFound(node1, k);
    until("last_used_at refreshed", NOTIFIED,
        () -> "t".equals(ownerValue("SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = '" + k.id + "'")));
    owner("UPDATE api_keys SET last_used_at = NULL WHERE id = '" + k.id + "'");
    assertFound(node1, k);
    assertThat(cache.cached(k.hash)).as("still cached: last_used_at announces nothing").isNotNull();
    Thread.sleep(300);
    assertThat(ownerValue("SELECT last_used_at IS NULL FROM api_keys WHERE id = '" + k.id + "'"))
        .as("not again within the minute").isEqualTo("t");
  }

  @Test
  void aKeyNeverResolvesToAnotherTenant() throws Exception {
    Key a = newKey();
    Key b = newKey();
    assertFound(node1, a);
    assertFound(node1, b);
    // a's secret presented under b's tenant: another hash, unknown under that tenant
    String forged = a.plaintext.replace(hex(a.tenant), hex(b.tenant));
    assertThat(await(ApiKeyLookup.find(node1, "Bearer " + forged))).isEmpty();
    assertThat(find(node1, a).orElseThrow().tenantId()).isEqualTo(a.tenant);
    assertThat(find(node1, b).orElseThrow().tenantId()).isEqualTo(b.tenant);
  }

  private record Key(UUID tenant, UUID id, String plaintext, String hash) {
    String header() {
      return "Bearer " + plaintext;
    }
  }

  /** A key of a tenant of its own (tests suspend tenants). */
  private static Key newKey() throws Exception {
    UUID tenant = await(node1.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of("t-" + UUID.randomUUID().toString().substring(0, 12))).map(r -> r.iterator().next().getUUID(0))));
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    UUID id = await(node1.inTenant(tenant, c -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) "
            + "VALUES ($1, 'test', $2, $3) RETURNING id").execute(Tuple.of(tenant, key.prefix(), key.hash()))
        .map(r -> r.iterator().next().getUUID(0))));
    return new Key(tenant, id, key.plaintext(), key.hash());
  }

  private static Optional<ApiKeyLookup.Found> find(Database db, Key k) throws Exception {
    return await(ApiKeyLookup.find(db, k.header()));
  }

  private static void assertFound(Database db, Key k) throws Exception {
    ApiKeyLookup.Found found = find(db, k).orElseThrow();
    assertThat(found.keyId()).isEqualTo(k.id);
    assertThat(found.tenantId()).isEqualTo(k.tenant);
  }

  private static String hex(UUID id) {
    return id.toString().replace("-", "");
  }

  private static void owner(String sql) throws Exception {
    try (Connection c = testDb.ownerJdbc(); Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String ownerValue(String sql) throws Exception {
    try (Connection c = testDb.ownerJdbc(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getString(1);
    }
  }
}
