package ai.deepchat.console;

import ai.deepchat.chat.widget.VisitorTokens;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.policy.PolicyMessages.VisitorsRevoked;
import ai.deepchat.platform.security.JwtForgery;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenarios 23, 24 and 26 for the console, over real HTTP and PostgreSQL: forged session tokens, a
 * visitor token and another tenant's ids on every route the console mounted (walked from its router, so
 * new routes are covered), and the CSRF origin check's scheme.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleAuthMatrixTest {

  static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
  private Vertx vertx;
  private ConsoleHarness h;

  @BeforeAll
  void start(Vertx vertx, @TempDir Path dataDir) throws Exception {
    this.vertx = vertx;
    h = ConsoleHarness.start(vertx, dataDir); // one console and database for the class; the extension closes Vert.x
  }

  private record Endpoint(HttpMethod method, String path) {
    /** The path with every parameter replaced. */
    String with(String id) {
      return path.replaceAll(":[A-Za-z]+", id).replace("*", "x");
    }
  }

  /** Every console route: method and path as mounted (routes without a method are tried with GET). */
  private List<Endpoint> consoleRoutes() {
    List<Endpoint> all = new ArrayList<>();
    for (Route r : h.router.getRoutes()) {
      if (r.getPath() == null || !r.getPath().startsWith("/console")) {
        continue;
      }
      if (r.methods() == null || r.methods().isEmpty()) {
        all.add(new Endpoint(HttpMethod.GET, r.getPath()));
      } else {
        r.methods().forEach(m -> all.add(new Endpoint(m, r.getPath())));
      }
    }
    assertThat(all).as("the console's routes").hasSizeGreaterThan(40);
    return all.stream().distinct().toList();
  }

  private HttpResponse<String> send(HttpMethod method, String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(h.base() + path))
        .method(method.name(), method == HttpMethod.GET ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString("x=1"));
    if (method != HttpMethod.GET) {
      b.header("Content-Type", "application/x-www-form-urlencoded");
    }
    headers.forEach(b::header);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String outcome(HttpResponse<String> r) {
    return r.statusCode() + " " + r.headers().firstValue("Location").orElse("");
  }

  private UUID id(UUID tenant, String sql) throws Exception {
    return await(h.db.inTenant(tenant, c -> c.query(sql).execute().map(r -> r.iterator().next().getUUID(0))));
  }

  /** A digest of every tenant-owned row of {@code tenant}, to prove nothing of it changed. */
  private String snapshot(UUID tenant) throws Exception {
    StringBuilder all = new StringBuilder();
    try (Connection c = h.testDb.ownerJdbc()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT table_name FROM information_schema.columns "
          + "WHERE column_name = 'tenant_id' AND table_schema = 'public' AND table_name <> 'audit_log' ORDER BY 1")) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
      for (String t : tables) {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) "
            + "FROM " + t + " x WHERE tenant_id = '" + tenant + "'")) {
          rs.next();
          all.append(t).append('=').append(rs.getString(1)).append(';');
        }
      }
    }
    return all.toString();
  }

  @Test
  void aVisitorTokenOpensNothingAnAnonymousRequestCannot() throws Exception {
    // a real visitor token, signed with the console's own secret (they share JWT_SECRET)
    String visitor = new VisitorTokens(vertx, ConsoleHarness.SECRET).issue(h.alpha, "v_matrix",
        TenantKeys.newWidgetKey(h.alpha));
    String before = snapshot(h.alpha);
    for (Endpoint e : consoleRoutes()) {
      String path = e.with(UUID.randomUUID().toString());
      String anonymous = outcome(send(e.method(), path, Map.of()));
      HttpResponse<String> asCookie = send(e.method(), path, Map.of("Cookie", "dc_session=" + visitor));
      HttpResponse<String> asBearer = send(e.method(), path, Map.of("Authorization", "Bearer " + visitor));
      assertThat(outcome(asCookie)).as("cookie, %s %s", e.method(), path).isEqualTo(anonymous);
      assertThat(outcome(asBearer)).as("bearer, %s %s", e.method(), path).isEqualTo(anonymous);
      if (!path.equals("/console/login") && !path.startsWith("/console/lang/") && !path.startsWith("/console/static")) {
        assertThat(asCookie.statusCode()).as("%s %s", e.method(), path).isIn(302, 303, 401, 403, 404);
      }
    }
    assertThat(snapshot(h.alpha)).isEqualTo(before);
  }

  @Test
  void anAdminOfOneTenantGetsNothingOfAnotherOnAnyRoute() throws Exception {
    // beta owns one row of each kind the console addresses by id
    await(h.db.inTenant(h.beta, c -> c.preparedQuery("INSERT INTO faq_entries (tenant_id, question, answer) "
            + "VALUES ($1, 'beta q', 'beta a')").execute(Tuple.of(h.beta))
        .compose(x -> c.preparedQuery("INSERT INTO knowledge_bases (tenant_id, name) VALUES ($1, 'beta kb')")
            .execute(Tuple.of(h.beta)))
        .compose(x -> c.preparedQuery("INSERT INTO conversations (tenant_id, channel) VALUES ($1, 'widget')")
            .execute(Tuple.of(h.beta)))
        .compose(x -> c.preparedQuery("INSERT INTO sensitive_words (tenant_id, word) VALUES ($1, 'betaword')")
            .execute(Tuple.of(h.beta)))
        .compose(x -> c.preparedQuery("INSERT INTO intent_rules (tenant_id, intent, kind, pattern) "
            + "VALUES ($1, 'faq', 'keyword', 'beta')").execute(Tuple.of(h.beta)))
        .compose(x -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) "
            + "VALUES ($1, 'beta key', 'dck_beta', 'hash-" + UUID.randomUUID() + "')").execute(Tuple.of(h.beta)))));
    List<UUID> betaIds = new ArrayList<>();
    for (String table : List.of("faq_entries", "knowledge_bases", "conversations", "sensitive_words", "intent_rules",
        "api_keys", "users")) {
      betaIds.add(id(h.beta, "SELECT id FROM " + table + " LIMIT 1"));
    }
    String before = snapshot(h.beta);
    var owner = h.browser().signedIn("alpha", "owner@alpha.test");
    int checked = 0;
    for (Endpoint e : consoleRoutes()) {
      if (!e.path().contains(":")) {
        continue;
      }
      for (UUID id : betaIds) {
        String path = e.with(id.toString());
        HttpResponse<String> r = e.method() == HttpMethod.GET ? owner.get(path)
            : path.endsWith("/upload") ? upload(owner, path)
            : owner.submit(path, new LinkedHashMap<>(Map.of("role", "owner", "password", "taken over!!",
                "question", "hijacked", "answer", "x", "percentage", "50")));
        if (path.startsWith("/console/lang/")) {
          continue;
        }
        assertThat(r.statusCode()).as("%s %s", e.method(), path).isIn(403, 404);
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(100);
    // and a tenant owner on every platform route
    for (Endpoint e : consoleRoutes()) {
      if (e.path().startsWith("/console/platform/")) {
        HttpResponse<String> r = e.method() == HttpMethod.GET ? owner.get(e.with("x")) : owner.submit(e.with("x"),
            Map.of("slug", "sneaky", "name", "n", "owner_email", "x@sneaky.test", "owner_password", "long enough pw"));
        assertThat(r.statusCode()).as("%s %s", e.method(), e.path()).isEqualTo(403);
      }
    }
    assertThat(snapshot(h.beta)).isEqualTo(before);
  }

  /** A well-formed upload (one small Markdown file), so the route gets past its form checks. */
  private HttpResponse<String> upload(ConsoleHarness.Browser b, String path) throws Exception {
    String boundary = "matrix" + UUID.randomUUID();
    String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc.md\"\r\n"
        + "Content-Type: text/markdown\r\n\r\n# planted\r\n--" + boundary + "--\r\n";
    return b.http.send(HttpRequest.newBuilder(URI.create(h.base() + path))
        .header("Content-Type", "multipart/form-data; boundary=" + boundary).header("X-CSRF-Token", b.csrf)
        .header("Origin", h.base()).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void forgedSessionTokensAreRefusedOnPagesAndForms() throws Exception {
    UUID ownerId = id(h.alpha, "SELECT id FROM users WHERE email = 'owner@alpha.test'");
    long now = System.currentTimeMillis() / 1000;
    JsonObject valid = new JsonObject().put("sub", ownerId.toString()).put("tid", h.alpha.toString())
        .put("jti", UUID.randomUUID().toString()).put("sa", false).put("ims", System.currentTimeMillis())
        .put("iss", "deepchat").put("aud", "console").put("iat", now).put("exp", now + 600);
    // the control: these claims, properly signed, open the console
    assertThat(send(HttpMethod.GET, "/console/", Map.of("Cookie", "dc_session="
        + JwtForgery.hs256(ConsoleHarness.SECRET, valid))).statusCode()).isEqualTo(200);
    String before = snapshot(h.alpha);
    for (JwtForgery.Forged f : JwtForgery.scenario23(ConsoleHarness.SECRET, valid)) {
      HttpResponse<String> page = send(HttpMethod.GET, "/console/", Map.of("Cookie", "dc_session=" + f.token()));
      assertThat(outcome(page)).as(f.name()).startsWith("302 /console/login");
      HttpResponse<String> form = send(HttpMethod.POST, "/console/words", Map.of("Cookie", "dc_session=" + f.token()));
      assertThat(form.statusCode()).as(f.name()).isEqualTo(401);
    }
    assertThat(snapshot(h.alpha)).isEqualTo(before);
  }

  @Test
  void anOriginThatDiffersOnlyInSchemeIsAnotherSite() throws Exception {
    var b = h.browser().signedIn("alpha", "editor@alpha.test");
    String authority = "127.0.0.1:" + h.port;
    for (String[] c : new String[][] {{"https://" + authority, null}, {"http://" + authority, "https"}}) {
      HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(h.base() + "/console/words"))
          .header("Content-Type", "application/x-www-form-urlencoded").header("Origin", c[0])
          .POST(HttpRequest.BodyPublishers.ofString("words=scheme-" + c[0].substring(0, 5) + "&_csrf=" + b.csrf));
      if (c[1] != null) {
        req.header("X-Forwarded-Proto", c[1]);
      }
      assertThat(b.http.send(req.build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .as("Origin %s, forwarded proto %s", c[0], c[1]).isEqualTo(403);
    }
    HttpResponse<String> referer = b.http.send(HttpRequest.newBuilder(URI.create(h.base() + "/console/words"))
        .header("Content-Type", "application/x-www-form-urlencoded").header("Referer", "https://" + authority + "/console/")
        .POST(HttpRequest.BodyPublishers.ofString("words=scheme-referer&_csrf=" + b.csrf)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(referer.statusCode()).isEqualTo(403);
    assertThat(count("SELECT count(*) FROM sensitive_words WHERE word LIKE 'scheme-%'")).isZero();
    // the same scheme passes: directly, and behind a TLS-terminating proxy that says so
    assertThat(b.post("/console/words", Map.of("words", "scheme-same", "_csrf", b.csrf), "http://" + authority)
        .statusCode()).isEqualTo(302);
    HttpResponse<String> proxied = b.http.send(HttpRequest.newBuilder(URI.create(h.base() + "/console/words"))
        .header("Content-Type", "application/x-www-form-urlencoded").header("Origin", "https://" + authority)
        .header("X-Forwarded-Proto", "https")
        .POST(HttpRequest.BodyPublishers.ofString("words=scheme-proxied&_csrf=" + b.csrf)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(proxied.statusCode()).isEqualTo(302);
    assertThat(count("SELECT count(*) FROM sensitive_words WHERE word LIKE 'scheme-%'")).isEqualTo(2);
  }

  @Test
  void rotatingTheWidgetKeyTellsEveryGatewayToCloseItsVisitorsSockets() throws Exception {
    Promise<VisitorsRevoked> revoked = Promise.promise();
    vertx.eventBus().<VisitorsRevoked>consumer(Addresses.WIDGET_VISITORS_REVOKED, m -> revoked.tryComplete(m.body()));
    var owner = h.browser().signedIn("beta", "owner@beta.test");
    owner.get("/console/widget");
    String key = string("SELECT public_key FROM widget_settings WHERE tenant_id = '" + h.beta + "'");
    assertThat(owner.submit("/console/widget/rotate-key", Map.of()).statusCode()).isEqualTo(302);
    assertThat(string("SELECT public_key FROM widget_settings WHERE tenant_id = '" + h.beta + "'")).isNotEqualTo(key);
    VisitorsRevoked message = revoked.future().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(message).isEqualTo(new VisitorsRevoked(h.beta.toString(), null));
  }

  private String string(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private long count(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
