package ai.deepchat.console;

import ai.deepchat.platform.concurrent.BusyDefaultWorkers;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.console.ConsoleHarness.PASSWORD;
import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console's guards over real HTTP and the real database: sign-in and its back-off, session tokens,
 * CSRF, roles, and another tenant's ids.
 */
@ExtendWith(VertxExtension.class)
class ConsoleSecurityTest extends ConsoleTestBase {

  private long count(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void signsInWithWorkspaceEmailAndPasswordAndServesPagesWithSecurityHeaders() throws Exception {
    var b = h.browser();
    HttpResponse<String> login = b.login("alpha", "OWNER@alpha.test", PASSWORD);
    assertThat(login.statusCode()).isEqualTo(303);
    assertThat(login.headers().firstValue("Location")).contains("/console/");
    String setCookie = login.headers().allValues("set-cookie").stream().filter(c -> c.startsWith("dc_session="))
        .findFirst().orElseThrow();
    assertThat(setCookie).contains("HTTPOnly").contains("SameSite=Strict").contains("Path=/console");

    HttpResponse<String> overview = b.get("/console/");
    assertThat(overview.statusCode()).isEqualTo(200);
    assertThat(overview.body()).contains("owner@alpha.test");
    assertThat(overview.headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("script-src 'self'").contains("frame-ancestors 'none'").doesNotContain("unsafe-inline");
    assertThat(overview.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
    assertThat(overview.headers().firstValue("Referrer-Policy")).isPresent();

    // the token is HS256 with iss deepchat, aud console and an 8-hour expiry
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(b.sessionCookie().split("\\.")[1]),
        StandardCharsets.UTF_8));
    assertThat(claims.getString("iss")).isEqualTo("deepchat");
    assertThat(claims.getValue("aud").toString()).contains("console");
    assertThat(claims.getLong("exp") - claims.getLong("iat")).isEqualTo(8 * 3600);
  }

  @Test
  void signInHashesOnItsOwnPoolWhileTheDefaultWorkerPoolIsFull() throws Exception {
    var b = h.browser();
    b.get("/console/login");
    try (BusyDefaultWorkers ignored = BusyDefaultWorkers.hold(vertx)) {
      HttpResponse<String> login = CompletableFuture.supplyAsync(() -> {
        try {
          return b.submit("/console/login", Map.of("workspace", "alpha", "email", "viewer@alpha.test",
              "password", PASSWORD, "next", "/console/"));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }).get(30, TimeUnit.SECONDS);
      assertThat(login.statusCode()).isEqualTo(303);
      assertThat(login.headers().firstValue("Location")).contains("/console/");
    }
  }

  @Test
  void wrongWorkspaceOrPasswordIsRefusedWithoutSayingWhich() throws Exception {
    var b = h.browser();
    assertThat(b.login("alpha", "owner@alpha.test", "wrong password!").statusCode()).isEqualTo(401);
    assertThat(b.login("nosuch", "owner@alpha.test", PASSWORD).statusCode()).isEqualTo(401);
    // alpha's user does not exist in beta
    assertThat(b.login("beta", "nobody@alpha.test", PASSWORD).statusCode()).isEqualTo(401);
    assertThat(b.get("/console/").statusCode()).isEqualTo(302);
  }

  @Test
  void wrongPasswordsSlowTheirOwnAddressButNeverLockTheOwnerOut() throws Exception {
    try (AddressedBrowser attacker = new AddressedBrowser(vertx, h.port, "127.0.0.2");
         AddressedBrowser owner = new AddressedBrowser(vertx, h.port, "127.0.0.3")) {
      for (int i = 0; i < 3; i++) {
        var r = attacker.login("beta", "owner@beta.test", "not the password");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.getHeader("Retry-After")).as("a few typos cost nothing").isNull();
      }
      var fourth = attacker.login("beta", "owner@beta.test", "not the password");
      assertThat(fourth.statusCode()).isEqualTo(401);
      assertThat(fourth.getHeader("Retry-After")).isEqualTo("1");
      // during the wait even the right password from that address is turned away, unchecked
      var waiting = attacker.login("beta", "owner@beta.test", PASSWORD);
      assertThat(waiting.statusCode()).isEqualTo(429);
      assertThat(Long.parseLong(waiting.getHeader("Retry-After"))).isBetween(1L, 1L);
      Thread.sleep(1_100); // waits out the real one-second back-off: the thing under test
      var fifth = attacker.login("beta", "owner@beta.test", "not the password");
      assertThat(fifth.statusCode()).isEqualTo(401);
      assertThat(fifth.getHeader("Retry-After")).as("each failure doubles the wait").isEqualTo("2");
      assertThat(attacker.login("beta", "owner@beta.test", "not the password").statusCode()).isEqualTo(429);

      // the owner, elsewhere, signs in at once
      assertThat(owner.login("beta", "owner@beta.test", PASSWORD).statusCode()).isEqualTo(303);
      assertThat(count("SELECT count(*) FROM audit_log WHERE action = 'console.signin_throttled'")).isEqualTo(1);
    }
  }

  @Test
  void consolePagesPastTheWorkspacesLimitAnswer429WithRetryAfter() throws Exception {
    UUID throttled = await(h.db.global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('throttled', 'throttled')"
        + " RETURNING id").execute().map(r -> r.iterator().next().getUUID(0))));
    await(h.db.inTenant(throttled, c -> c.preparedQuery("INSERT INTO users (tenant_id, email, password_hash, role) "
            + "VALUES ($1, 'owner@throttled.test', $2, 'owner')")
        .execute(Tuple.of(throttled, ai.deepchat.platform.security.PasswordHasher.hash(PASSWORD)))
        .compose(r -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, requests_per_minute) VALUES ($1, 3) "
            + "ON CONFLICT (tenant_id) DO UPDATE SET requests_per_minute = 3").execute(Tuple.of(throttled)))));
    var b = h.browser().signedIn("throttled", "owner@throttled.test"); // signing in is not counted; its page is
    assertThat(b.get("/console/").statusCode()).isEqualTo(200);
    assertThat(b.get("/console/").statusCode()).isEqualTo(200);
    HttpResponse<String> over = b.get("/console/");
    assertThat(over.statusCode()).isEqualTo(429);
    assertThat(Long.parseLong(over.headers().firstValue("Retry-After").orElseThrow())).isPositive();
    // another workspace's console is untouched
    assertThat(h.browser().signedIn("beta", "viewer@beta.test").get("/console/").statusCode()).isEqualTo(200);
  }

  @Test
  void theSuperAdminIsNeverLockedOutFromAnotherAddress() throws Exception {
    try (AddressedBrowser attacker = new AddressedBrowser(vertx, h.port, "127.0.0.4");
         AddressedBrowser admin = new AddressedBrowser(vertx, h.port, "127.0.0.5")) {
      for (int i = 0; i < 6; i++) {
        assertThat(attacker.login("", "root@platform.test", "not the password").statusCode()).isIn(401, 429);
      }
      assertThat(attacker.login("", "root@platform.test", PASSWORD).statusCode()).isEqualTo(429);
      assertThat(admin.login("", "root@platform.test", PASSWORD).statusCode()).isEqualTo(303);
    }
  }

  @Test
  void formsWithoutAValidCsrfTokenOrFromAnotherOriginChangeNothing() throws Exception {
    var b = h.browser().signedIn("alpha", "editor@alpha.test");
    long before = count("SELECT count(*) FROM sensitive_words");
    assertThat(b.post("/console/words", Map.of("words", "nocsrf")).statusCode()).isEqualTo(403);
    assertThat(b.post("/console/words", Map.of("words", "badcsrf", "_csrf", "forged")).statusCode()).isEqualTo(403);
    HttpResponse<String> foreign = b.post("/console/words", Map.of("words", "foreign", "_csrf", b.csrf),
        "https://evil.example");
    assertThat(foreign.statusCode()).isEqualTo(403);
    assertThat(foreign.body()).contains("another site");
    // another browser's token does not fit this browser's cookie
    var other = h.browser().signedIn("alpha", "editor@alpha.test");
    assertThat(b.post("/console/words", Map.of("words", "othertoken", "_csrf", other.csrf)).statusCode()).isEqualTo(403);
    assertThat(count("SELECT count(*) FROM sensitive_words")).isEqualTo(before);

    assertThat(b.submit("/console/words", Map.of("words", "csrf-ok")).statusCode()).isEqualTo(302);
    assertThat(count("SELECT count(*) FROM sensitive_words WHERE word = 'csrf-ok'")).isEqualTo(1);
    // GET never changes state: a GET to an action route is not a route
    assertThat(b.get("/console/words/" + UUID.randomUUID() + "/delete").statusCode()).isEqualTo(404);
  }

  @Test
  void rolesLimitWhatEachUserMayDo() throws Exception {
    var viewer = h.browser().signedIn("alpha", "viewer@alpha.test");
    assertThat(viewer.get("/console/faq").statusCode()).isEqualTo(200);
    assertThat(viewer.get("/console/faq").body()).doesNotContain("action=\"/console/faq\"");
    HttpResponse<String> keys = viewer.get("/console/keys");
    assertThat(keys.statusCode()).isEqualTo(403);
    assertThat(keys.body()).contains("permission").contains("test-");
    assertThat(viewer.submit("/console/faq", Map.of("question", "q", "answer", "a", "enabled", "on")).statusCode())
        .isEqualTo(403);
    assertThat(count("SELECT count(*) FROM faq_entries WHERE question = 'q'")).isZero();

    var editor = h.browser().signedIn("alpha", "editor@alpha.test");
    assertThat(editor.submit("/console/widget", Map.of("title", "t", "greeting", "g", "primary_color", "#000000",
        "language", "en", "position", "left", "allowed_origins", "")).statusCode()).isEqualTo(403);
    assertThat(editor.get("/console/users").statusCode()).isEqualTo(403);

    // an admin may not create owners; an owner may
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    assertThat(admin.submit("/console/users", Map.of("email", "new-owner@alpha.test", "password", "long enough pw",
        "role", "owner")).statusCode()).isEqualTo(403);
    var owner = h.browser().signedIn("alpha", "owner@alpha.test");
    assertThat(owner.submit("/console/users", Map.of("email", "new-owner@alpha.test", "password", "long enough pw",
        "role", "owner")).statusCode()).isEqualTo(302);
    assertThat(count("SELECT count(*) FROM users WHERE email = 'new-owner@alpha.test' AND role = 'owner'")).isEqualTo(1);

    // a demotion applies to the next request of a live session
    UUID viewerId = await(h.db.inTenant(h.alpha, c -> c.query("SELECT id FROM users WHERE email = 'editor@alpha.test'")
        .execute().map(r -> r.iterator().next().getUUID(0))));
    owner.get("/console/users");
    assertThat(owner.submit("/console/users/" + viewerId + "/role", Map.of("role", "viewer")).statusCode()).isEqualTo(302);
    editor.get("/console/words");
    assertThat(editor.submit("/console/words", Map.of("words", "after-demotion")).statusCode()).isEqualTo(403);
    await(h.db.inTenant(h.alpha, c -> c.preparedQuery("UPDATE users SET role = 'editor' WHERE id = $1")
        .execute(Tuple.of(viewerId))));
  }

  @Test
  void anotherTenantsIdsAreNotFoundAndNothingChanges() throws Exception {
    UUID faq = await(h.db.inTenant(h.beta, c -> c.preparedQuery("INSERT INTO faq_entries (tenant_id, question, answer) "
        + "VALUES ($1, 'beta question', 'beta answer') RETURNING id").execute(Tuple.of(h.beta))
        .map(r -> r.iterator().next().getUUID(0))));
    UUID kb = await(h.db.inTenant(h.beta, c -> c.preparedQuery("INSERT INTO knowledge_bases (tenant_id, name) "
        + "VALUES ($1, 'beta kb') RETURNING id").execute(Tuple.of(h.beta)).map(r -> r.iterator().next().getUUID(0))));
    UUID conv = await(h.db.inTenant(h.beta, c -> c.preparedQuery("INSERT INTO conversations (tenant_id, channel) "
        + "VALUES ($1, 'widget') RETURNING id").execute(Tuple.of(h.beta)).map(r -> r.iterator().next().getUUID(0))));
    UUID user = await(h.db.inTenant(h.beta, c -> c.query("SELECT id FROM users WHERE email = 'viewer@beta.test'")
        .execute().map(r -> r.iterator().next().getUUID(0))));

    var owner = h.browser().signedIn("alpha", "owner@alpha.test");
    assertThat(owner.get("/console/kb/" + kb).statusCode()).isEqualTo(404);
    assertThat(owner.get("/console/kb/" + kb + "/documents.json").statusCode()).isEqualTo(404);
    assertThat(owner.get("/console/kb/" + kb + "/search?q=beta").statusCode()).isEqualTo(404);
    assertThat(owner.get("/console/conversations/" + conv).statusCode()).isEqualTo(404);
    assertThat(owner.get("/console/conversations/not-a-uuid").statusCode()).isEqualTo(404);
    owner.get("/console/faq");
    assertThat(owner.submit("/console/faq/" + faq, Map.of("question", "hijacked", "answer", "x")).statusCode())
        .isEqualTo(404);
    assertThat(owner.submit("/console/faq/" + faq + "/delete", Map.of()).statusCode()).isEqualTo(404);
    assertThat(owner.submit("/console/users/" + user + "/role", Map.of("role", "owner")).statusCode()).isEqualTo(404);
    assertThat(owner.submit("/console/users/" + user + "/delete", Map.of()).statusCode()).isEqualTo(404);

    assertThat(count("SELECT count(*) FROM faq_entries WHERE id = '" + faq + "' AND question = 'beta question'"))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM users WHERE id = '" + user + "' AND role = 'viewer'")).isEqualTo(1);
    // alpha's FAQ page lists none of beta's entries
    assertThat(owner.get("/console/faq").body()).doesNotContain("beta question");
  }

  @Test
  void forgedExpiredOrForeignTokensAreRefused() throws Exception {
    UUID ownerId = await(h.db.inTenant(h.alpha, c -> c.query("SELECT id FROM users WHERE email = 'owner@alpha.test'")
        .execute().map(r -> r.iterator().next().getUUID(0))));
    JsonObject claims = new JsonObject().put("sub", ownerId.toString()).put("tid", h.alpha.toString())
        .put("jti", "x").put("sa", false).put("ims", System.currentTimeMillis());
    JWTAuth ours = jwt(ConsoleHarness.SECRET);
    JWTAuth theirs = jwt("another-secret-0123456789abcdef0123456789abcdef");
    JWTOptions good = new JWTOptions().setIssuer("deepchat").setAudience(List.of("console")).setExpiresInMinutes(60);

    assertThat(status(ours.generateToken(claims.copy(), good))).isEqualTo(200);
    assertThat(status(theirs.generateToken(claims.copy(), good))).isEqualTo(302);
    assertThat(status(ours.generateToken(claims.copy(), new JWTOptions().setIssuer("deepchat")
        .setAudience(List.of("console"))))).as("no exp").isEqualTo(302);
    assertThat(status(ours.generateToken(claims.copy(), new JWTOptions().setIssuer("deepchat")
        .setAudience(List.of("widget")).setExpiresInMinutes(60)))).as("widget audience").isEqualTo(302);
    assertThat(status(ours.generateToken(claims.copy(), new JWTOptions().setIssuer("someone")
        .setAudience(List.of("console")).setExpiresInMinutes(60)))).as("issuer").isEqualTo(302);
    assertThat(status(ours.generateToken(claims.copy().put("exp", System.currentTimeMillis() / 1000 - 3600),
        new JWTOptions().setIssuer("deepchat").setAudience(List.of("console"))))).as("expired").isEqualTo(302);
    String body = Base64.getUrlEncoder().withoutPadding().encodeToString(new JsonObject()
        .put("sub", ownerId.toString()).put("tid", h.alpha.toString()).put("iss", "deepchat").put("aud", "console")
        .put("ims", System.currentTimeMillis()).put("exp", System.currentTimeMillis() / 1000 + 3600).encode()
        .getBytes(StandardCharsets.UTF_8));
    String none = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}"
        .getBytes(StandardCharsets.UTF_8)) + "." + body + ".";
    assertThat(status(none)).as("alg none").isEqualTo(302);
  }

  @Test
  void signingOutEndsTheSessionEvenForACopiedCookie() throws Exception {
    var b = h.browser().signedIn("alpha", "admin@alpha.test");
    String token = b.sessionCookie();
    assertThat(status(token)).isEqualTo(200);
    HttpResponse<String> out = b.submit("/console/logout", Map.of());
    assertThat(out.statusCode()).isEqualTo(303);
    assertThat(status(token)).isEqualTo(302);
    // a new sign-in works right away
    assertThat(h.browser().login("alpha", "admin@alpha.test", PASSWORD).statusCode()).isEqualTo(303);
  }

  @Test
  void passwordChangesEndOldSessions() throws Exception {
    await(h.db.inTenant(h.alpha, c -> c.preparedQuery("INSERT INTO users (tenant_id, email, password_hash, role) "
        + "SELECT tenant_id, 'pw@alpha.test', password_hash, 'editor' FROM users WHERE email = 'owner@alpha.test'")
        .execute()));
    var user = h.browser().signedIn("alpha", "pw@alpha.test");
    String oldToken = user.sessionCookie();
    user.get("/console/account");
    assertThat(user.submit("/console/account/password", Map.of("current", "wrong one!", "password", "brand new pw 1"))
        .statusCode()).isEqualTo(400);
    assertThat(user.submit("/console/account/password", Map.of("current", PASSWORD, "password", "short"))
        .statusCode()).isEqualTo(400);
    assertThat(user.submit("/console/account/password", Map.of("current", PASSWORD, "password", "brand new pw 1"))
        .statusCode()).isEqualTo(302);
    assertThat(status(oldToken)).isEqualTo(302);
    assertThat(h.browser().login("alpha", "pw@alpha.test", PASSWORD).statusCode()).isEqualTo(401);
    var again = h.browser();
    assertThat(again.login("alpha", "pw@alpha.test", "brand new pw 1").statusCode()).isEqualTo(303);
    String second = again.sessionCookie();

    // an admin's reset ends the user's sessions too
    UUID id = await(h.db.inTenant(h.alpha, c -> c.query("SELECT id FROM users WHERE email = 'pw@alpha.test'")
        .execute().map(r -> r.iterator().next().getUUID(0))));
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    admin.get("/console/users");
    assertThat(admin.submit("/console/users/" + id + "/password", Map.of("password", "reset by admin"))
        .statusCode()).isEqualTo(302);
    assertThat(status(second)).isEqualTo(302);
    assertThat(h.browser().login("alpha", "pw@alpha.test", "reset by admin").statusCode()).isEqualTo(303);
    // an admin cannot reset an owner's password
    UUID ownerId = await(h.db.inTenant(h.alpha, c -> c.query("SELECT id FROM users WHERE email = 'owner@alpha.test'")
        .execute().map(r -> r.iterator().next().getUUID(0))));
    assertThat(admin.submit("/console/users/" + ownerId + "/password", Map.of("password", "taken over!!"))
        .statusCode()).isEqualTo(403);
    assertThat(h.browser().login("alpha", "owner@alpha.test", PASSWORD).statusCode()).isEqualTo(303);
  }

  @Test
  void superAdminCreatesATenantWithItsOwnerAndTenantUsersCannotReachPlatformPages() throws Exception {
    var root = h.browser();
    HttpResponse<String> login = root.login("", "root@platform.test", PASSWORD);
    assertThat(login.statusCode()).isEqualTo(303);
    assertThat(login.headers().firstValue("Location")).contains("/console/platform/tenants");
    root.get("/console/platform/tenants");
    assertThat(root.submit("/console/platform/tenants", Map.of("slug", "gamma", "name", "Gamma Ltd",
        "owner_email", "boss@gamma.test", "owner_password", PASSWORD)).statusCode()).isEqualTo(302);
    assertThat(h.browser().login("gamma", "boss@gamma.test", PASSWORD).statusCode()).isEqualTo(303);
    assertThat(count("SELECT count(*) FROM widget_settings w JOIN tenants t ON t.id = w.tenant_id "
        + "WHERE t.slug = 'gamma' AND w.public_key LIKE 'pk_%'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM audit_log WHERE action = 'tenant.create'")).isGreaterThanOrEqualTo(1);

    var owner = h.browser().signedIn("alpha", "owner@alpha.test");
    assertThat(owner.get("/console/platform/tenants").statusCode()).isEqualTo(403);
    assertThat(owner.submit("/console/platform/tenants", Map.of("slug", "delta", "name", "d",
        "owner_email", "x@delta.test", "owner_password", PASSWORD)).statusCode()).isEqualTo(403);
    assertThat(count("SELECT count(*) FROM tenants WHERE slug = 'delta'")).isZero();
  }

  @Test
  void errorPagesAreRenderedWithTheRequestId() throws Exception {
    var b = h.browser().signedIn("alpha", "viewer@alpha.test");
    HttpResponse<String> missing = b.get("/console/no/such/page");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
    assertThat(missing.body()).contains("Not found").contains("test-");
    HttpResponse<String> zh = b.http.send(HttpRequest.newBuilder(URI.create(h.base() + "/console/no/such/page"))
        .header("Accept-Language", "zh-CN,zh;q=0.9").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(zh.body()).contains("未找到");
  }

  private static JWTAuth jwt(String secret) {
    return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
        .setBuffer(secret)));
  }

  /** The status of the overview for a request carrying only this session cookie. */
  private int status(String token) throws Exception {
    return h.browser().http.send(HttpRequest.newBuilder(URI.create(h.base() + "/console/"))
        .header("Cookie", "dc_session=" + token).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }
}
