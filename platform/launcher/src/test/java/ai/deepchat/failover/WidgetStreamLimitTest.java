package ai.deepchat.failover;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.failover.WidgetSockets.connect;
import static ai.deepchat.failover.WidgetSockets.message;
import static ai.deepchat.failover.WidgetSockets.next;
import static ai.deepchat.failover.WidgetSockets.session;
import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * MAX_CONCURRENT_STREAMS over the real widget WebSocket and chat pipeline: with one slot, a second
 * visitor's turn is refused at once with an "overloaded" error frame (nothing queued, no model call),
 * and is served once the first answer has finished. DeepSeek's API is emulated (slow stream).
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class WidgetStreamLimitTest {

  private static final String ORIGIN = "https://shop.example";

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void aTurnBeyondTheLimitIsRefusedAtOnceAndServedLater(@TempDir Path dir) throws Exception {
    Vertx client = Vertx.vertx();
    try (FakeDeepSeek deepseek = new FakeDeepSeek(30, 100);
         Node node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dir.toString(), "HTTP_HOST", "127.0.0.1",
             "HTTP_PORT", "0", "SEED_DEMO", "false", "ROLES", "gateway,pipeline", "MAX_CONCURRENT_STREAMS", "1",
             "DEEPSEEK_API_KEY", "fake-key", "DEEPSEEK_BASE_URL", deepseek.baseUrl()), new String[0]))) {
      String key = widgetTenant(node);
      int port = node.httpPort();
      BlockingQueue<JsonObject> a = new LinkedBlockingQueue<>();
      BlockingQueue<JsonObject> b = new LinkedBlockingQueue<>();
      WebSocket wsA = connect(client, port, session(port, key, ORIGIN), ORIGIN, a);
      WebSocket wsB = connect(client, port, session(port, key, ORIGIN), ORIGIN, b);

      wsA.writeTextMessage(message("Tell me about your shop"));
      assertThat(next(a, "start")).isNotNull();
      assertThat(next(a, "delta")).isNotNull();
      int calls = deepseek.requests.get();

      long t0 = System.nanoTime();
      wsB.writeTextMessage(message("And opening hours?"));
      JsonObject refused = b.poll(10, TimeUnit.SECONDS);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(refused).isNotNull();
      assertThat(refused.getString("type")).isEqualTo("error");
      assertThat(refused.getString("code")).isEqualTo("overloaded");
      assertThat(millis).as("refused at once, not queued behind the running answer").isLessThan(2000);
      assertThat(deepseek.requests.get()).as("the refused turn never reached the model").isEqualTo(calls);

      assertThat(next(a, "done")).isNotNull();
      Thread.sleep(200); // the slot is released when the turn's end reaches the socket
      wsB.writeTextMessage(message("And opening hours?"));
      assertThat(next(b, "start")).isNotNull();
      assertThat(next(b, "done")).isNotNull();

      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort()
          + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("deepchat_gateway_shed_total{reason=\"overload\"} 1.0");
      wsA.close();
      wsB.close();
    } finally {
      client.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static String widgetTenant(Node node) throws Exception {
    var db = node.platform().database();
    UUID tenant = await(db.global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('shop', 'shop')"
        + " RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    String key = TenantKeys.newWidgetKey(tenant);
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, requests_per_minute,"
            + " visitor_requests_per_minute) VALUES ($1, 100000, 100000) ON CONFLICT (tenant_id) DO UPDATE"
            + " SET requests_per_minute = 100000, visitor_requests_per_minute = 100000")
        .execute(Tuple.of(tenant))
        .compose(r -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins)"
            + " VALUES ($1, $2, $3)").execute(Tuple.of(tenant, key, new String[] {ORIGIN})))));
    return key;
  }
}
