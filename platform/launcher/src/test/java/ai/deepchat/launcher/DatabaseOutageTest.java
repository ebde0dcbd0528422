package ai.deepchat.launcher;

import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.EmbeddedDatabase;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL restarts under a running node (scenario 12): while it is down, requests that need it
 * fail fast with 503 + JSON and readiness is DOWN; once it is back the pool reconnects by itself and
 * the same requests succeed, with no node restart.
 */
class DatabaseOutageTest {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> send(int port, String method, String path, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(15)).method(method, HttpRequest.BodyPublishers.noBody());
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void requestsFailFastWhileDatabaseIsDownAndRecoverWithoutRestart(@TempDir Path dataDir) throws Exception {
    int port = NodeLifecycleTest.freePort();
    PlatformConfig config = ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(), "HTTP_PORT",
        String.valueOf(port), "HTTP_HOST", "127.0.0.1", "SEED_DEMO", "false", "DB_POOL_SIZE", "4", "ROLES", "gateway,pipeline"), new String[0]);
    try (Node node = Node.start(config)) {
      var db = node.platform().database();
      UUID tenant = Node.await(db.global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('outage','outage')"
          + " RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
      TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
      Node.await(db.inTenant(tenant, c -> c.preparedQuery(
              "INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) VALUES ($1, 'ops', $2, $3)")
          .execute(Tuple.of(tenant, key.prefix(), key.hash()))));
      String path = "/v1/visitors/visitor-1";

      assertThat(send(port, "DELETE", path, key.plaintext()).statusCode()).isEqualTo(200);
      assertThat(send(port, "GET", "/health/ready", null).statusCode()).isEqualTo(200);
      assertThat(db.apiKeys().live()).as("a gateway node listens for key changes").isTrue();

      EmbeddedDatabase pg = node.database().embedded().orElseThrow();
      pg.stop();
      try {
        long t0 = System.nanoTime();
        HttpResponse<String> down = send(port, "DELETE", path, key.plaintext());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
        assertThat(down.headers().firstValue("Retry-After")).isPresent();
        JsonObject error = new JsonObject(down.body()).getJsonObject("error");
        assertThat(error.getString("code")).isEqualTo("database_unavailable");
        assertThat(error.getString("message")).contains("database");
        assertThat(millis).as("fails fast, not after a long timeout").isLessThan(10_000);

        HttpResponse<String> ready = send(port, "GET", "/health/ready", null);
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("database");
        assertThat(send(port, "GET", "/health/live", null).statusCode()).isEqualTo(200);
      } finally {
        pg.restart();
      }

      // recovers by itself within 30 s (RELIABILITY.md scenario 12)
      until("recovered without a node restart", Duration.ofSeconds(30),
          () -> send(port, "DELETE", path, key.plaintext()).statusCode() == 200);
      assertThat(send(port, "GET", "/health/ready", null).statusCode()).isEqualTo(200);
      until("API-key cache listening again", Duration.ofSeconds(30), () -> db.apiKeys().live());
    }
  }
}
