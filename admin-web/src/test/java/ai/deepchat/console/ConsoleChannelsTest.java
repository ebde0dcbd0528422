package ai.deepchat.console;

import ai.deepchat.channel.wechat.ChannelFeature;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.ratelimit.RateLimiters;
import ai.deepchat.policy.ratelimit.RequestLimits;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Channels page over real HTTP: admins create, edit and delete the tenant's WeChat and WeCom channels
 * through the store of {@code /v1/channels}; secrets are never shown back; other roles and tenants see
 * nothing. (The loopback round trip itself, with the real pipeline, is in verticles'
 * WechatChannelIntegrationTest; here the button's answer from the node is checked.)
 */
class ConsoleChannelsTest extends ConsoleTestBase {

  private static final String KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

  /** The node's channel callback URLs on the console's server, as a gateway instance has them. */
  @BeforeAll
  static void channelCallbacks() throws Exception {
    Platform platform = new Platform(ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(), "JWT_SECRET",
        ConsoleHarness.SECRET), new String[0]), h.db, "test");
    RequestLimits limits = new RequestLimits(vertx, h.db, RateLimiters.forVertx(vertx, Clock.systemUTC(), 1000));
    ChannelFeature.httpModule(vertx, platform, limits, new AuditLog(h.db)).get().mount(h.router);
  }

  @Test
  void adminsManageChannelsAndSecretsNeverComeBack() throws Exception {
    ConsoleHarness.Browser admin = h.browser().signedIn("alpha", "admin@alpha.test");
    HttpResponse<String> empty = admin.get("/console/channels");
    assertThat(empty.statusCode()).isEqualTo(200);
    assertThat(empty.body()).contains("href=\"/console/channels\"");

    HttpResponse<String> created = admin.submit("/console/channels", Map.of("kind", "wechat", "name", "Service account",
        "appId", "wx1234567890abcd", "appSecret", "app-secret-value-1", "token", "tokenvalue42",
        "encodingAesKey", KEY, "mode", "safe", "welcomeMessage", "欢迎关注！"));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(302);
    String page = admin.get("/console/channels").body();
    Matcher url = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/channels/wechat/([0-9a-f-]{36}))").matcher(page);
    assertThat(url.find()).as(page).isTrue();
    String id = url.group(2);
    assertThat(page).contains("Service account").contains("wx1234567890abcd").contains("欢迎关注！").contains("(set)")
        .doesNotContain("app-secret-value-1").doesNotContain("tokenvalue42").doesNotContain(KEY);

    // bad input: the API's words, nothing stored
    HttpResponse<String> bad = admin.submit("/console/channels", Map.of("kind", "wecom", "name", "corp",
        "appId", "ww1", "appSecret", "s", "token", "tok123", "encodingAesKey", KEY, "mode", "safe"));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("agentId");
    assertThat(admin.get("/console/channels").body()).doesNotContain("ww1");

    // edit: blank secrets keep their values; the change is audited with secrets masked
    String sealedSecret;
    try (var c = h.testDb.ownerJdbc(); var st = c.createStatement();
         var rs = st.executeQuery("SELECT app_secret FROM channels WHERE id = '" + id + "'")) {
      assertThat(rs.next()).isTrue();
      sealedSecret = rs.getString(1);
    }
    HttpResponse<String> edited = admin.submit("/console/channels/" + id, Map.of("name", "Renamed", "appId",
        "wx1234567890abcd", "mode", "safe", "welcomeMessage", "", "appSecret", "", "token", "newtoken77"));
    assertThat(edited.statusCode()).as(edited.body()).isEqualTo(302);
    try (var c = h.testDb.ownerJdbc(); var st = c.createStatement();
         var rs = st.executeQuery("SELECT name, app_secret, token, enabled FROM channels WHERE id = '" + id + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("Renamed");
      // sealed at rest: the row holds neither value
      assertThat(rs.getString(2)).startsWith("v1:").doesNotContain("app-secret-value-1").isEqualTo(sealedSecret);
      assertThat(rs.getString(3)).startsWith("v1:").doesNotContain("newtoken77");
      assertThat(rs.getBoolean(4)).isFalse(); // the checkbox was left unticked
    }
    assertThat(admin.get("/console/audit").body()).contains("channel.update").doesNotContain("newtoken77");

    // the test button of a disabled channel: the node refuses the push, the page says so (loopback only)
    HttpResponse<String> test = admin.submit("/console/channels/" + id + "/test", Map.of("question", "你好"));
    assertThat(test.statusCode()).isEqualTo(200);
    assertThat(test.body()).contains("id=\"test-result\"").contains("The round trip failed")
        .contains("the node answered HTTP 404");

    // editors and other tenants: nothing
    assertThat(h.browser().signedIn("alpha", "editor@alpha.test").get("/console/channels").statusCode()).isEqualTo(403);
    ConsoleHarness.Browser beta = h.browser().signedIn("beta", "admin@beta.test");
    assertThat(beta.get("/console/channels").body()).doesNotContain("Renamed");
    assertThat(beta.submit("/console/channels/" + id + "/delete", Map.of()).statusCode()).isEqualTo(404);
    assertThat(beta.submit("/console/channels/" + id + "/test", Map.of("question", "hi")).statusCode()).isEqualTo(404);

    assertThat(admin.submit("/console/channels/" + id + "/delete", Map.of()).statusCode()).isEqualTo(302);
    assertThat(admin.get("/console/channels").body()).doesNotContain("Renamed");
  }
}
