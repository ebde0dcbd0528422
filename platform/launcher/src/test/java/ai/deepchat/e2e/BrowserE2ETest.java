package ai.deepchat.e2e;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Browser tests: a whole node (embedded PostgreSQL in a temporary directory, every role) plus a static
 * "customer site" on another loopback origin, driven by the Node scripts in admin-web/src/test/e2e
 * (playwright-core with Debian's Chromium). Each script exits non-zero on the first failed check;
 * screenshots go to target/e2e-screenshots. Skipped, with the reason, only when chromium or node is
 * missing on this machine ({@code ./dev test} installs chromium).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BrowserE2ETest {

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final String PASSWORD = "e2e admin password";
  // the platform super-admin, for the Tenants page's accessibility check
  static final String SUPERADMIN_EMAIL = "root@platform.local";
  static final String SUPERADMIN_PASSWORD = "e2e super password";
  private static final Pattern WIDGET_KEY = Pattern.compile("pk_[0-9a-f]{32}_[A-Za-z0-9]{16}");

  static Path dataDir;
  static Node node;
  static HttpServer hostSite;
  static com.sun.net.httpserver.HttpServer docsSite;
  static Path scripts;

  @BeforeAll
  static void start() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM),
        "browser tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium, or ./dev test)");
    Assumptions.assumeTrue(NodeScripts.available(),
        "browser tests skipped: node and npm are not on the PATH");
    scripts = Path.of("").toAbsolutePath().resolve("../../admin-web/src/test/e2e").normalize();
    assertThat(scripts.resolve("package-lock.json")).exists();
    // axe-core is the lock file's newest entry: a checkout installed before it was added installs again
    NodeScripts.installUnless(scripts, Path.of("node_modules/axe-core"));
    dataDir = Files.createTempDirectory("deepchat-e2e");
    int port = freePort();
    docsSite = startDocsSite();
    // the docs site is on loopback: allow-listed as an operator would list an intranet host
    PlatformConfig config = ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(),
        "HTTP_PORT", String.valueOf(port), "HTTP_HOST", "127.0.0.1", "ADMIN_PASSWORD", PASSWORD,
        "SUPERADMIN_EMAIL", SUPERADMIN_EMAIL, "SUPERADMIN_PASSWORD", SUPERADMIN_PASSWORD,
        "OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:" + docsSite.getAddress().getPort()), new String[0]);
    node = Node.start(config);
    hostSite = startHostSite(port);
  }

  /** A company's documentation site for web import: a start page linking two pages. */
  static com.sun.net.httpserver.HttpServer startDocsSite() throws IOException {
    Map<String, String> pages = Map.of(
        "/docs/", "<h1>Help centre</h1><p>Answers for customers.</p><a href=\"returns\">Returns</a> <a href=\"/docs/shipping\">Shipping</a>",
        "/docs/returns", "<h1>Returns</h1><p>Unused items can be returned within 30 days for a full refund.</p>",
        "/docs/shipping", "<h1>Shipping</h1><p>Orders ship within two working days.</p>");
    com.sun.net.httpserver.HttpServer site = com.sun.net.httpserver.HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    site.createContext("/", exchange -> {
      String page = pages.get(exchange.getRequestURI().getPath());
      byte[] body = (page == null ? "" : "<!doctype html><html><body>" + page + "</body></html>")
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
      exchange.sendResponseHeaders(page == null ? 404 : 200, page == null ? -1 : body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    site.start();
    return site;
  }

  /** A customer's site on another origin (localhost vs 127.0.0.1, own port) with hostile CSS. */
  static HttpServer startHostSite(int nodePort) throws Exception {
    String nodeBase = "http://127.0.0.1:" + nodePort;
    return node.vertx().createHttpServer().requestHandler(req -> {
      String key = req.getParam("key", "");
      if (!WIDGET_KEY.matcher(key).matches()) {
        req.response().setStatusCode(400).end("key?");
        return;
      }
      req.response().putHeader("Content-Type", "text/html; charset=utf-8").end("<!doctype html><html lang=\"en\">"
          + "<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          + "<title>Demo Shop</title><style>"
          // hostile host styles: none of them may reach into the widget
          + "* { font-family: serif !important; color: #0a0 !important; letter-spacing: 3px; }"
          + "button { display: none !important; } p, li, div { font-size: 30px !important; }"
          + "body { background: #fafafa; margin: 40px; }</style></head><body>"
          + "<h1>Demo Shop</h1><p>Our customers' site, with its own (hostile) CSS.</p>"
          + "<script src=\"" + nodeBase + "/widget.js\" data-key=\"" + key + "\" async></script>"
          + "</body></html>");
    }).listen(0, "localhost").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws IOException {
    if (node != null) {
      node.close();
    }
    if (docsSite != null) {
      docsSite.stop(0);
    }
    if (dataDir != null) {
      try (var files = Files.walk(dataDir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  @Order(1)
  void consoleScenario() throws Exception {
    assertThat(script("console.e2e.js")).isZero();
  }

  @Test
  @Order(2)
  void widgetScenario() throws Exception {
    assertThat(script("widget.e2e.js")).isZero();
  }

  /** Scenario 15: the XSS corpus (admin-web/src/test/e2e/xss-corpus.json) through the widget and console. */
  @Test
  @Order(3)
  void xssCorpusScenario() throws Exception {
    assertThat(script("xss.e2e.js")).isZero();
  }

  /** Issue #15 item 5: a playground message through the real pipeline, its answer and its trace panel. */
  @Test
  @Order(4)
  void playgroundScenario() throws Exception {
    assertThat(script("playground.e2e.js")).isZero();
  }

  /** The console's FAQ match test on the demo tenant's seeded entries (issue #15). */
  @Test
  @Order(5)
  void faqMatchScenario() throws Exception {
    assertThat(script("faq-match.e2e.js")).isZero();
  }

  /** Retrieval evaluation in the console (issue #15 item 4). */
  @Test
  @Order(6)
  void evaluationScenario() throws Exception {
    assertThat(script("evaluation.e2e.js")).isZero();
  }

  /** Issue #16 item 2: a whole site imported from the console, listed with its status, then re-synced. */
  @Test
  @Order(7)
  void webImportScenario() throws Exception {
    assertThat(script("web-import.e2e.js")).isZero();
  }

  /**
   * Issue #22 item 4: the Models page's live workers and inline validation, then a canary of two test
   * model versions fed by playground turns, compared side by side.
   */
  @Test
  @Order(8)
  void modelsScenario() throws Exception {
    assertThat(script("models.e2e.js")).isZero();
  }

  /**
   * Issue #22 items 2 and 8: the front page's live demo widget answering, a refused origin told why in
   * the browser console and allowed from the console's Widget page; axe-core on the page and the widget.
   */
  @Test
  @Order(9)
  void landingScenario() throws Exception {
    assertThat(script("landing.e2e.js")).isZero();
  }

  /** Issue #22 item 8: axe-core on every console page (and the pages behind them, tenants as super-admin) at phone width, skip link, aria-current, chart figures. */
  @Test
  @Order(10)
  void accessibilityScenario() throws Exception {
    assertThat(script("a11y.e2e.js")).isZero();
  }

  /** Issue #18: a visitor on the customer's site and an agent in the console's inbox, escalate to resolve. */
  @Test
  @Order(11)
  void inboxScenario() throws Exception {
    assertThat(script("inbox.e2e.js")).isZero();
  }

  /** Issue #18: a visitor rates a conversation staff resolved, with the widget's rating form. */
  @Test
  @Order(12)
  void ratingScenario() throws Exception {
    assertThat(script("rating.e2e.js")).isZero();
  }

  /**
   * Issue #19: a channel created on the Channels page and its "send test message" loopback round trip
   * answered on the page; axe-core on the page.
   */
  @Test
  @Order(13)
  void channelsScenario() throws Exception {
    assertThat(script("channels.e2e.js")).isZero();
  }

  /** Re-embedding a knowledge base into another model from its console page (issue #16 item 4). */
  @Test
  @Order(20)
  void reembedScenario() throws Exception {
    assertThat(script("reembed.e2e.js")).isZero();
  }

  private int script(String name) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("BASE_URL", "http://127.0.0.1:" + node.httpPort());
    env.put("HOST_URL", "http://localhost:" + hostSite.actualPort());
    env.put("ADMIN_WORKSPACE", "demo");
    env.put("ADMIN_EMAIL", "admin@demo.local");
    env.put("ADMIN_PASSWORD", PASSWORD);
    env.put("SUPERADMIN_EMAIL", SUPERADMIN_EMAIL);
    env.put("SUPERADMIN_PASSWORD", SUPERADMIN_PASSWORD);
    env.put("CHROMIUM", CHROMIUM.toString());
    env.put("SITE_URL", "http://127.0.0.1:" + docsSite.getAddress().getPort());
    env.put("SCREENSHOT_DIR", Path.of("target/e2e-screenshots").toAbsolutePath().toString());
    return NodeScripts.run(scripts, List.of("node", name), env, 480);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

}
