package ai.deepchat.console;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.security.PasswordHasher;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.widget.WidgetScriptModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.sqlclient.Tuple;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static ai.deepchat.platform.testing.Await.await;

/**
 * A real console over real HTTP on a fresh, migrated PostgreSQL database: two tenants ("alpha" and
 * "beta") with an owner, an admin and a viewer each, all with the password {@link #PASSWORD}.
 */
final class ConsoleHarness {

  static final String PASSWORD = "correct horse battery";
  static final String SECRET = "test-secret-0123456789abcdef0123456789abcdef";
  private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

  final Vertx vertx;
  final TestDatabase testDb;
  final Database db;
  final int port;
  final UUID alpha;
  final UUID beta;
  /** Every route the console mounted, for tests that walk all of them. */
  final Router router;

  private ConsoleHarness(Vertx vertx, TestDatabase testDb, int port, UUID alpha, UUID beta, Router router) {
    this.router = router;
    this.vertx = vertx;
    this.testDb = testDb;
    this.db = testDb.database();
    this.port = port;
    this.alpha = alpha;
    this.beta = beta;
  }

  static ConsoleHarness start(Vertx vertx, Path dataDir) throws Exception {
    TestDatabase testDb = TestDatabase.fresh(vertx);
    PlatformConfig config = ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(), "JWT_SECRET", SECRET,
        "SUPERADMIN_EMAIL", "root@platform.test", "SUPERADMIN_PASSWORD", PASSWORD), new String[0]);
    Platform platform = new Platform(config, testDb.database(), "test");
    String hash = PasswordHasher.hash(PASSWORD);
    UUID alpha = await(tenant(testDb.database(), "alpha", hash));
    UUID beta = await(tenant(testDb.database(), "beta", hash));
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      ctx.put("requestId", "test-" + UUID.randomUUID());
      ctx.next();
    });
    new WidgetScriptModule().mount(router);
    ai.deepchat.platform.bus.Codecs.registerAll(vertx);
    var audit = new ai.deepchat.policy.audit.AuditLog(testDb.database());
    var canary = await(ai.deepchat.canary.CanaryServices.create(vertx, platform, audit,
        EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH), Clock.systemUTC()));
    new ConsoleModule(vertx, platform, audit, canary.admin(), null).mount(router);
    HttpServer server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    return new ConsoleHarness(vertx, testDb, server.actualPort(), alpha, beta, router);
  }

  private static Future<UUID> tenant(Database db, String slug, String hash) {
    return db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
            .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID(0)))
        .compose(id -> db.inTenant(id, c -> c.preparedQuery("INSERT INTO users (tenant_id, email, password_hash, role) "
                + "VALUES ($1, 'owner@" + slug + ".test', $2, 'owner'), ($1, 'admin@" + slug + ".test', $2, 'admin'), "
                + "($1, 'editor@" + slug + ".test', $2, 'editor'), ($1, 'viewer@" + slug + ".test', $2, 'viewer')")
            .execute(Tuple.of(id, hash)).map(id)));
  }

  String base() {
    return "http://127.0.0.1:" + port;
  }

  /** A browser-like client: its own cookies, no automatic redirects. */
  Browser browser() {
    return new Browser();
  }

  final class Browser {
    final CookieManager cookies = new CookieManager();
    final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies)
        .followRedirects(HttpClient.Redirect.NEVER).build();
    String csrf;

    HttpResponse<String> get(String path) throws Exception {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + path)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      Matcher m = Pattern.compile("name=\"csrf-token\" content=\"([^\"]+)\"").matcher(r.body());
      if (m.find()) {
        csrf = m.group(1);
      } else {
        Matcher f = CSRF.matcher(r.body());
        if (f.find()) {
          csrf = f.group(1);
        }
      }
      return r;
    }

    HttpResponse<String> post(String path, Map<String, String> form) throws Exception {
      return post(path, form, base());
    }

    HttpResponse<String> post(String path, Map<String, String> form, String origin) throws Exception {
      String body = form.entrySet().stream()
          .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
          .collect(Collectors.joining("&"));
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(body));
      if (origin != null) {
        b.header("Origin", origin);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A form post carrying this browser's current CSRF token. */
    HttpResponse<String> submit(String path, Map<String, String> form) throws Exception {
      Map<String, String> withToken = new LinkedHashMap<>(form);
      withToken.put("_csrf", csrf);
      return post(path, withToken);
    }

    /** A multipart form with one file, carrying this browser's CSRF token, as a file input sends it. */
    HttpResponse<String> upload(String path, Map<String, String> form, String fileName, byte[] file) throws Exception {
      String boundary = "----console-test-" + System.nanoTime();
      java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
      Map<String, String> withToken = new LinkedHashMap<>(form);
      withToken.put("_csrf", csrf);
      for (Map.Entry<String, String> e : withToken.entrySet()) {
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + e.getKey() + "\"\r\n\r\n"
            + e.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
      }
      body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fileName
          + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      body.writeBytes(file);
      body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
      return http.send(HttpRequest.newBuilder(URI.create(base() + path)).header("Origin", base())
          .header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> login(String workspace, String email, String password) throws Exception {
      get("/console/login");
      return submit("/console/login", Map.of("workspace", workspace, "email", email, "password", password,
          "next", "/console/"));
    }

    Browser signedIn(String workspace, String email) throws Exception {
      HttpResponse<String> r = login(workspace, email, PASSWORD);
      if (r.statusCode() != 303) {
        throw new AssertionError("login of " + email + " failed: " + r.statusCode() + " " + r.body());
      }
      get("/console/");
      return this;
    }

    String sessionCookie() {
      return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("dc_session"))
          .map(java.net.HttpCookie::getValue).findFirst().orElse(null);
    }
  }
}
