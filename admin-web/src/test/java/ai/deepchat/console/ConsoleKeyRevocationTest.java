package ai.deepchat.console;

import ai.deepchat.platform.security.AuthChangeVerticle;
import ai.deepchat.policy.privacy.ApiKeyAuth;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the API-key cache live, over real HTTP: a key revoked in the console is refused by the very
 * next API request, and one revoked or a workspace suspended with plain SQL within two seconds. The
 * API side is the production {@link ApiKeyAuth} handler on the console's server.
 */
class ConsoleKeyRevocationTest extends ConsoleTestBase {

  private static final Pattern KEY = Pattern.compile("dck_[0-9a-f]{32}_[A-Za-z0-9]{32}");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void listen() throws Exception {
    h.router.get("/v1/probe").handler(new ApiKeyAuth(h.db)).handler(ctx -> ctx.response().end("ok"));
    await(vertx.deployVerticle(new AuthChangeVerticle(h.db)));
    until("cache live", Duration.ofSeconds(5), () -> h.db.apiKeys().live());
  }

  @Test
  void revokedInTheConsoleTheVeryNextRequestIsRefused() throws Exception {
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    String key = createKey(admin, "console-revoked");
    assertThat(probe(key)).isEqualTo(200);
    assertThat(probe(key)).as("now cached").isEqualTo(200);
    String id = ownerValue("SELECT id FROM api_keys WHERE name = 'console-revoked'");
    // no notification: only the console's own invalidation can refuse the next request
    owner("ALTER TABLE api_keys DISABLE TRIGGER api_keys_auth_change");
    try {
      assertThat(admin.submit("/console/keys/" + id + "/revoke", Map.of()).statusCode()).isEqualTo(302);
      assertThat(probe(key)).isEqualTo(401);
    } finally {
      owner("ALTER TABLE api_keys ENABLE TRIGGER api_keys_auth_change");
    }
  }

  @Test
  void revokedOrSuspendedWithSqlIsRefusedWithinTwoSeconds() throws Exception {
    var admin = h.browser().signedIn("beta", "admin@beta.test");
    String revoked = createKey(admin, "sql-revoked");
    String suspended = createKey(admin, "sql-suspended");
    assertThat(probe(revoked)).isEqualTo(200);
    assertThat(probe(suspended)).isEqualTo(200);

    owner("UPDATE api_keys SET revoked_at = now() WHERE name = 'sql-revoked'");
    until("revoked key refused", Duration.ofSeconds(2), () -> probe(revoked) == 401);
    owner("UPDATE tenants SET status = 'suspended' WHERE id = '" + h.beta + "'");
    try {
      until("suspended workspace refused", Duration.ofSeconds(2), () -> probe(suspended) == 403);
    } finally {
      owner("UPDATE tenants SET status = 'active' WHERE id = '" + h.beta + "'");
    }
  }

  private static String createKey(ConsoleHarness.Browser admin, String name) throws Exception {
    admin.get("/console/keys");
    Matcher m = KEY.matcher(admin.submit("/console/keys", Map.of("name", name)).body());
    assertThat(m.find()).isTrue();
    return m.group();
  }

  private static int probe(String key) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(h.base() + "/v1/probe")).header("Authorization", "Bearer " + key)
        .GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static void owner(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String ownerValue(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); var rs = c.createStatement().executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
