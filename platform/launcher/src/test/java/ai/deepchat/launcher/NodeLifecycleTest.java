package ai.deepchat.launcher;

import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.tokenizer.TokenizerRegistry;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole node on the embedded default: health, metrics (on the management port only), request ids,
 * errors, restart keeping data.
 */
class NodeLifecycleTest {

  private final HttpClient http = HttpClient.newHttpClient();

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private HttpResponse<String> get(int port, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesHealthAndMetricsAndKeepsDataAcrossRestart(@TempDir Path dataDir) throws Exception {
    int port = freePort();
    PlatformConfig config = ConfigLoader.load(Map.of(
        "DATA_DIR", dataDir.toString(), "HTTP_PORT", String.valueOf(port), "HTTP_HOST", "127.0.0.1",
        "ADMIN_PASSWORD", "correct horse battery", "EMBEDDING_WORKERS", "3"), new String[0]);

    try (Node node = Node.start(config)) {
      assertThat(node.httpPort()).isEqualTo(port);
      assertThat(WorkerPools.of(node.vertx()).size(WorkerPools.Kind.EMBEDDINGS)).as("the configured pool size").isEqualTo(3);
      assertThat(get(port, "/health/live").statusCode()).isEqualTo(200);

      HttpResponse<String> ready = get(port, "/health/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(ready.body()).getString("status")).isEqualTo("UP");
      // the pipeline's token counter (bundled copy) and the engine worker (test model's copy) read the
      // same tokenizer.json: one native tokenizer in this JVM, not one each
      assertThat(TokenizerRegistry.live()).as("native tokenizers built by this node").isEqualTo(1);

      // metrics on the management port only, never on the public one
      assertThat(get(port, "/metrics").statusCode()).isEqualTo(404);
      assertThat(node.managementPort()).isPositive().isNotEqualTo(port);
      HttpResponse<String> metrics = get(node.managementPort(), "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("vertx_http_server_requests_total").contains("jvm_memory_used_bytes");
      assertThat(get(node.managementPort(), "/health/ready").statusCode()).isEqualTo(200);

      HttpResponse<String> missing = get(port, "/no/such/thing", "X-Request-Id", "test-request-0001");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.headers().firstValue("X-Request-Id")).contains("test-request-0001");
      assertThat(new JsonObject(missing.body()).getJsonObject("error").getString("code")).isEqualTo("not_found");

      assertThat(countTenants(node)).isEqualTo(1);
    }

    // Restart on the same data directory and port: nothing re-migrated or re-seeded, port was released.
    try (Node node = Node.start(config)) {
      assertThat(get(port, "/health/ready").statusCode()).isEqualTo(200);
      assertThat(countTenants(node)).isEqualTo(1);
      Long users = Node.await(node.platform().database().global(c -> c
          .query("SELECT id FROM tenants WHERE slug = 'demo'").execute()
          .map(rows -> rows.iterator().next().getUUID(0))).compose(tenant -> node.platform().database()
          .inTenant(tenant, c -> c.query("SELECT count(*) FROM users").execute()
              .map(rows -> rows.iterator().next().getLong(0)))));
      assertThat(users).isEqualTo(1);
    }
  }

  private static long countTenants(Node node) {
    return Node.await(node.platform().database().global(c -> c.query("SELECT count(*) FROM tenants").execute()
        .map(rows -> rows.iterator().next().getLong(0))));
  }
}
