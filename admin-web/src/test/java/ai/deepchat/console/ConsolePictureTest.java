package ai.deepchat.console;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A picture a WeChat user sent, in the console: the transcript shows it, its route serves the stored bytes
 * as their checked image type with nosniff, and another workspace's id is 404.
 */
class ConsolePictureTest extends ConsoleTestBase {

  /** The PNG signature and an IHDR start: enough bytes for a browser to call it a PNG. */
  private static final String PNG_HEX = "89504e470d0a1a0a0000000d4948445200000001000000010802000000";

  @Test
  void theTranscriptShowsAPictureServedOnlyToItsWorkspace() throws Exception {
    UUID channel = UUID.randomUUID();
    UUID picture = UUID.randomUUID();
    UUID conversation = UUID.randomUUID();
    try (Connection c = h.testDb.ownerJdbc(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO channels (id, tenant_id, kind, name, app_id, app_secret, token, mode) VALUES ('" + channel
          + "', '" + h.alpha + "', 'wechat', 'c', 'wx1', 's', 't', 'plaintext')");
      st.execute("INSERT INTO channel_media (id, tenant_id, channel_id, open_id, content_type, size_bytes, data) VALUES ('"
          + picture + "', '" + h.alpha + "', '" + channel + "', 'oPictureUser', 'image/png', " + PNG_HEX.length() / 2
          + ", '\\x" + PNG_HEX + "')");
      st.execute("INSERT INTO conversations (id, tenant_id, visitor_id, channel, title) VALUES ('" + conversation + "', '"
          + h.alpha + "', 'oPictureUser', 'wechat', 'a picture')");
      st.execute("INSERT INTO messages (tenant_id, conversation_id, role, content, media_id) VALUES ('" + h.alpha + "', '"
          + conversation + "', 'user', '[图片 picture]', '" + picture + "')");
    }
    ConsoleHarness.Browser alpha = h.browser().signedIn("alpha", "viewer@alpha.test");
    HttpResponse<String> transcript = alpha.get("/console/conversations/" + conversation);
    assertThat(transcript.statusCode()).isEqualTo(200);
    assertThat(transcript.body()).contains("<img class=\"picture\" src=\"/console/media/" + picture + "\"")
        .contains("alt=\"Picture the visitor sent\"");

    HttpResponse<byte[]> bytes = alpha.http.send(HttpRequest.newBuilder(URI.create(h.base() + "/console/media/" + picture))
        .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(bytes.statusCode()).isEqualTo(200);
    assertThat(bytes.headers().firstValue("Content-Type")).hasValue("image/png");
    assertThat(bytes.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(HexFormat.of().formatHex(bytes.body())).isEqualTo(PNG_HEX);

    // another workspace's viewer, and an id that is no picture: 404, nothing served
    ConsoleHarness.Browser beta = h.browser().signedIn("beta", "viewer@beta.test");
    HttpResponse<String> foreign = beta.get("/console/media/" + picture);
    assertThat(foreign.statusCode()).isEqualTo(404);
    assertThat(foreign.headers().firstValue("Content-Type").orElse("")).doesNotStartWith("image/");
    assertThat(alpha.get("/console/media/" + UUID.randomUUID()).statusCode()).isEqualTo(404);
    assertThat(alpha.get("/console/media/not-an-id").statusCode()).isEqualTo(404);
    // signed out: no picture
    assertThat(h.browser().get("/console/media/" + picture).statusCode()).isNotEqualTo(200);
  }
}
