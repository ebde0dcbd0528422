package ai.deepchat.console;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/** WeChat and WeCom conversations in the console: the conversations page filters by those channels too. */
class ConsoleChannelConversationsTest extends ConsoleTestBase {

  @Test
  void conversationsFilterByTheMessagingChannels() throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO conversations (tenant_id, visitor_id, channel, title) VALUES ('" + h.alpha
          + "', 'oWeChatUser1', 'wechat', 'asked on wechat'), ('" + h.alpha + "', 'zhangsan', 'wecom', 'asked on wecom'), ('"
          + h.alpha + "', 'v1', 'widget', 'asked on the widget')");
    }
    ConsoleHarness.Browser alpha = h.browser().signedIn("alpha", "viewer@alpha.test");
    HttpResponse<String> wechat = alpha.get("/console/conversations?channel=wechat");
    assertThat(wechat.statusCode()).isEqualTo(200);
    assertThat(wechat.body()).contains("asked on wechat").doesNotContain("asked on wecom")
        .doesNotContain("asked on the widget").contains("<option value=\"wechat\" selected");
    assertThat(alpha.get("/console/conversations?channel=wecom").body()).contains("asked on wecom")
        .doesNotContain("asked on wechat");
  }
}
