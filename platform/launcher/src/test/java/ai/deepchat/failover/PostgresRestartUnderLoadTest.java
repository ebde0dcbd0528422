package ai.deepchat.failover;

import ai.deepchat.launcher.NodeProcess;
import ai.deepchat.platform.db.EmbeddedDatabase;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md scenario 12 with real processes: a clustered gateway node and pipeline node share an
 * external PostgreSQL (a real server the test controls); clients keep calling a database-backed
 * endpoint while PostgreSQL stops and starts again. Every answer is a success or a fast 503
 * database_unavailable (never a 500, never a hang), and the nodes serve again within 30 s of the
 * restart without being restarted themselves.
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class PostgresRestartUnderLoadTest {

  private record Outcome(long atNanos, int status, long millis, String code) {
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void requestsFailFastDuringTheOutageAndRecoverAfterIt(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    EmbeddedDatabase pg = EmbeddedDatabase.start(dir.resolve("pg"), NodeProcess.freePort());
    String jdbcUrl = ClusterFixture.createDatabase(pg);
    String databaseUrl = ClusterFixture.databaseUrl(pg, "127.0.0.1", pg.port());
    int hz1 = NodeProcess.freePort();
    int hz2 = NodeProcess.freePort();
    Map<String, String> cluster = Map.of("CLUSTER", "hazelcast", "CLUSTER_HOST", "127.0.0.1",
        "CLUSTER_MEMBERS", "127.0.0.1:" + hz1 + ",127.0.0.1:" + hz2, "DATABASE_URL", databaseUrl,
        "DATABASE_APP_PASSWORD", ClusterFixture.APP_PASSWORD, "DB_POOL_SIZE", "4");
    NodeProcess gateway = null;
    NodeProcess pipeline = null;
    try {
      pipeline = NodeProcess.start("pipeline", dir, NodeProcess.freePort(), with(cluster, "ROLES", "pipeline",
          "CLUSTER_PORT", String.valueOf(hz2))).awaitReady(Duration.ofSeconds(120));
      gateway = NodeProcess.start("gateway", dir, NodeProcess.freePort(), with(cluster, "ROLES", "gateway",
          "CLUSTER_PORT", String.valueOf(hz1))).awaitReady(Duration.ofSeconds(120));
      String key = tenantWithKey(pg, jdbcUrl);
      int port = gateway.httpPort;

      ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService clients = Executors.newFixedThreadPool(4);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      for (int i = 0; i < 4; i++) {
        int client = i;
        clients.submit(() -> {
          int n = 0;
          while (running.get()) {
            long t0 = System.nanoTime();
            try {
              HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                      + "/v1/visitors/load-" + client + "-" + n++)).timeout(Duration.ofSeconds(20))
                  .header("Authorization", "Bearer " + key).DELETE().build(), HttpResponse.BodyHandlers.ofString());
              String code = r.statusCode() == 200 ? "ok" : errorCode(r);
              outcomes.add(new Outcome(t0, r.statusCode(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), code));
              Thread.sleep(100);
            } catch (InterruptedException e) {
              return null;
            } catch (Exception e) {
              outcomes.add(new Outcome(t0, -1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                  e.getClass().getSimpleName()));
            }
          }
          return null;
        });
      }

      Thread.sleep(3000); // the phases of the outage are timed: load before, the database away, load after
      long stopAt = System.nanoTime();
      pg.stop();
      long stoppedAt = System.nanoTime();
      Thread.sleep(6000);
      long restartingAt = System.nanoTime();
      pg.restart();
      long restartedAt = System.nanoTime();
      // run until every client has had 3 s of successes, or 30 s
      long deadline = restartedAt + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline && !recovered(outcomes, restartedAt)) {
        Thread.sleep(200);
      }
      Thread.sleep(2000); // load after the recovery: those requests fall under the "all" check too
      running.set(false);
      clients.shutdown();
      assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

      List<Outcome> all = new ArrayList<>(outcomes);
      // answered before the stop (a request in flight at the stop may fail: it is in the "all" check)
      List<Outcome> before = all.stream()
          .filter(o -> o.atNanos() + TimeUnit.MILLISECONDS.toNanos(o.millis() + 1) < stopAt).toList();
      // sent after the server was down and answered before it began to start again
      List<Outcome> during = all.stream().filter(o -> o.atNanos() >= stoppedAt
          && o.atNanos() + TimeUnit.MILLISECONDS.toNanos(o.millis() + 1) < restartingAt).toList();
      assertThat(before).isNotEmpty().allSatisfy(o -> assertThat(o.status()).as(o.toString()).isEqualTo(200));
      assertThat(during).as("requests while PostgreSQL is down").isNotEmpty()
          .allSatisfy(o -> {
            assertThat(o.status()).as(o.toString()).isEqualTo(503);
            assertThat(o.code()).as(o.toString()).isEqualTo("database_unavailable");
            assertThat(o.millis()).as("answered fast: " + o).isLessThan(5000);
          });
      assertThat(all).as("only successes and clear 503s, no 500s, no transport errors")
          .allSatisfy(o -> assertThat(o.status()).as(o.toString()).isIn(200, 503));
      assertThat(recovered(outcomes, restartedAt)).as("served again within 30 s of the restart").isTrue();
      assertThat(gateway.alive()).isTrue();
      assertThat(pipeline.alive()).isTrue();
    } finally {
      if (gateway != null) {
        gateway.close();
      }
      if (pipeline != null) {
        pipeline.close();
      }
      pg.close();
    }
  }

  /** The last 3 s of answers after the restart are all 200, with some from every moment of it. */
  private static boolean recovered(ConcurrentLinkedQueue<Outcome> outcomes, long restartedAt) {
    long now = System.nanoTime();
    List<Outcome> recent = outcomes.stream().filter(o -> o.atNanos() > restartedAt
        && o.atNanos() > now - TimeUnit.SECONDS.toNanos(3)).toList();
    return recent.size() >= 8 && recent.stream().allMatch(o -> o.status() == 200);
  }

  private static String errorCode(HttpResponse<String> r) {
    try {
      return new JsonObject(r.body()).getJsonObject("error").getString("code");
    } catch (RuntimeException e) {
      return "unparsable:" + r.body();
    }
  }

  private static Map<String, String> with(Map<String, String> base, String... kv) {
    Map<String, String> m = new java.util.HashMap<>(base);
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /** A tenant with generous limits (the test is about the database, not rate limits) and an API key. */
  private static String tenantWithKey(EmbeddedDatabase pg, String jdbcUrl) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, pg.ownerEndpoint().user(), pg.ownerEndpoint().password())) {
      UUID tenant;
      try (PreparedStatement st = c.prepareStatement("INSERT INTO tenants (slug, name) VALUES ('load', 'load') RETURNING id")) {
        ResultSet rs = st.executeQuery();
        rs.next();
        tenant = (UUID) rs.getObject(1);
      }
      try (PreparedStatement st = c.prepareStatement("INSERT INTO tenant_settings (tenant_id, requests_per_minute,"
          + " api_key_requests_per_minute) VALUES (?, 100000, 100000) ON CONFLICT (tenant_id) DO UPDATE"
          + " SET requests_per_minute = 100000, api_key_requests_per_minute = 100000")) {
        st.setObject(1, tenant);
        st.executeUpdate();
      }
      TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
      try (PreparedStatement st = c.prepareStatement(
          "INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) VALUES (?, 'load', ?, ?)")) {
        st.setObject(1, tenant);
        st.setString(2, key.prefix());
        st.setString(3, key.hash());
        st.executeUpdate();
      }
      return key.plaintext();
    }
  }
}
