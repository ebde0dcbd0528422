package ai.deepchat.launcher;

import ai.deepchat.platform.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #22 item 2 on a whole node with its seeded demo tenant: the front page at / with the demo
 * widget, HTML error pages for browsers (JSON for API clients), and a widget origin refusal that the
 * page can read and the tenant's console will list.
 */
class LandingPageTest {

  @TempDir
  static Path dataDir;
  static Node node;
  static int port;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    port = NodeLifecycleTest.freePort();
    node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(), "HTTP_PORT", String.valueOf(port),
        "HTTP_HOST", "127.0.0.1", "ADMIN_PASSWORD", "correct horse battery"), new String[0]));
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String demoWidgetKey() {
    return Node.await(node.platform().database().global(c -> c.query("SELECT id FROM tenants WHERE slug = 'demo'")
            .execute().map(rows -> rows.iterator().next().getUUID(0)))
        .compose(t -> node.platform().database().inTenant(t, c -> c.query("SELECT public_key FROM widget_settings")
            .execute().map(rows -> rows.iterator().next().getString(0)))));
  }

  @Test
  void frontPageNamesTheNodeAndCarriesTheDemoWidget() throws Exception {
    HttpResponse<String> en = get("/", "Accept", "text/html", "Accept-Language", "en-GB,en;q=0.9");
    assertThat(en.statusCode()).isEqualTo(200);
    assertThat(en.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
    assertThat(en.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v ->
        assertThat(v).contains("script-src 'self'").doesNotContain("unsafe-inline"));
    String key = demoWidgetKey();
    assertThat(en.body()).contains("<html lang=\"en\"").contains("DeepChat is running on this node")
        .contains("href=\"/console/\"").contains("Version")
        .contains("<script src=\"/widget.js\" async data-key=\"" + key + "\">")
        // the snippet to copy names this node absolutely
        .contains("&lt;script src=&quot;http://127.0.0.1:" + port + "/widget.js&quot; data-key=&quot;" + key);

    HttpResponse<String> zh = get("/", "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5");
    assertThat(zh.body()).contains("<html lang=\"zh\"").contains("DeepChat 正在本节点运行");
    assertThat(get("/?lang=zh", "Accept-Language", "en").body()).contains("<html lang=\"zh\"");
    // the seeded widget allows the node's own origin, so the page's widget works out of the box
    HttpResponse<String> config = get("/widget/config?key=" + key, "Origin", "http://127.0.0.1:" + port);
    assertThat(config.statusCode()).isEqualTo(200);
  }

  @Test
  void browsersGetHtmlErrorPagesAndApiClientsKeepJson() throws Exception {
    HttpResponse<String> page = get("/no/such/page", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8",
        "Accept-Language", "zh-CN", "X-Request-Id", "landing-test-0001");
    assertThat(page.statusCode()).isEqualTo(404);
    assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
    assertThat(page.body()).contains("<html lang=\"zh\"").contains("页面不存在").contains("landing-test-0001")
        .contains("href=\"/console/\"").doesNotContain("/no/such/page");

    HttpResponse<String> api = get("/no/such/page", "Accept", "application/json");
    assertThat(api.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(api.body()).getJsonObject("error").getString("code")).isEqualTo("not_found");
    HttpResponse<String> bare = get("/v1/no-such-endpoint");
    assertThat(new JsonObject(bare.body()).getJsonObject("error").getString("code")).isEqualTo("not_found");
  }

  @Test
  void aRefusedOriginIsToldWhyAndRecordedForTheTenant() throws Exception {
    String key = demoWidgetKey();
    String origin = "http://shop-" + UUID.randomUUID().toString().substring(0, 8) + ".localhost:8443";
    HttpResponse<String> refused = get("/widget/config?key=" + key, "Origin", origin);
    assertThat(refused.statusCode()).isEqualTo(403);
    // readable by the page, so the widget can log why it does not appear
    assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).contains(origin);
    JsonObject error = new JsonObject(refused.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("origin_not_allowed");
    assertThat(error.getString("message")).contains(origin).contains("Widget page");
    get("/widget/config?key=" + key, "Origin", origin + "/");
    // a malformed Origin is refused but never recorded
    get("/widget/config?key=" + key, "Origin", "http://x.localhost/path");

    UUID demo = Node.await(node.platform().database().global(c -> c.query("SELECT id FROM tenants WHERE slug = 'demo'")
        .execute().map(rows -> rows.iterator().next().getUUID(0))));
    until("both refusals written", java.time.Duration.ofSeconds(15), () -> Long.valueOf(2).equals(refusals(demo, origin)));
    assertThat(refusals(demo, "http://x.localhost/path")).isNull();
  }

  private Long refusals(UUID tenant, String origin) {
    return Node.await(node.platform().database().inTenant(tenant, c -> c
        .preparedQuery("SELECT refusals FROM widget_refused_origins WHERE origin = $1").execute(Tuple.of(origin))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0))));
  }
}
