package ai.deepchat.chat;

import ai.deepchat.chat.WechatSimulator.Account;
import ai.deepchat.chat.WechatSimulator.Reply;
import ai.deepchat.platform.chat.ChatMessages;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pictures WeChat users send, over real HTTP and PostgreSQL with the real pipeline: fetched through the
 * simulator's media/get (never from PicUrl), size-capped, checked by their bytes, stored per tenant, erased
 * with the visitor, and passed to a vision-capable version (a loopback OpenAI-compatible endpoint that
 * records what it got) as an {@code image_url} part; a text-only version's user is told it cannot read them.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WechatPictureIntegrationTest {

  private static final AtomicLong MSG_IDS = new AtomicLong(7054768590064713728L);
  private static final int MAX_BYTES = 64 * 1024;

  private final WechatSimulator sim = new WechatSimulator();
  private final Account text = new Account("wx000000000text", "secret-text", "tok-text", null, "gh_text");
  private final Account vision = new Account("wx00000000vision", "secret-vision", "tok-vision", null, "gh_vision");
  private final List<JsonObject> visionRequests = new CopyOnWriteArrayList<>();
  private ChatHarness h;
  private ChatHarness.Tenant textTenant;
  private ChatHarness.Tenant visionTenant;
  private String textUrl;
  private String visionUrl;
  private HttpServer visionUpstream;
  private byte[] png;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    sim.account(text).account(vision).start(vertx, ChatHarness.ALLOWED_LOOPBACK);
    h = new ChatHarness(vertx).start(Map.of("WECHAT_API_BASE", sim.apiBase(),
        "CHANNEL_MEDIA_MAX_BYTES", Integer.toString(MAX_BYTES)));
    textTenant = h.tenant("pictures-text");
    visionTenant = h.tenant("pictures-vision");
    textUrl = channelUrl(textTenant, text);
    visionUrl = channelUrl(visionTenant, vision);
    // a vision-capable OpenAI-compatible endpoint on the loopback address the operator allow-lists
    visionUpstream = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      visionRequests.add(body.toJsonObject());
      req.response().putHeader("Content-Type", "text/event-stream").end("data: " + new JsonObject()
          .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("finish_reason", "stop")
              .put("delta", new JsonObject().put("content", "I see a red square.")))).encode() + "\n\ndata: [DONE]\n\n");
    })).listen(0, ChatHarness.ALLOWED_LOOPBACK).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    h.execOwner("INSERT INTO model_versions (tenant_id, name, backend, location, params, state, stable_since) VALUES ('"
        + visionTenant.id() + "', 'vl-1', 'openai', 'http://" + ChatHarness.ALLOWED_LOOPBACK + ":"
        + visionUpstream.actualPort() + "/v1', '{\"model\": \"vl\", \"api_key\": \"sk-vl\", \"vision\": true}', "
        + "'stable', now())");
    BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
    img.setRGB(1, 1, 0xFF0000);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    png = out.toByteArray();
  }

  @AfterAll
  void stop() {
    if (visionUpstream != null) {
      visionUpstream.close();
    }
  }

  private String channelUrl(ChatHarness.Tenant t, Account a) {
    UUID id = UUID.randomUUID();
    h.execOwner("INSERT INTO channels (id, tenant_id, kind, name, app_id, app_secret, token, mode) VALUES ('" + id
        + "', '" + t.id() + "', 'wechat', 'pictures', '" + a.appId() + "', '" + a.secret() + "', '" + a.token()
        + "', 'plaintext')");
    return "http://127.0.0.1:" + h.port + "/channels/wechat/" + id;
  }

  /** What the user got for a push: the passive reply, or else the first message sent through the API. */
  private String answerTo(Reply reply, String user) throws Exception {
    if (reply.content() != null) {
      return reply.content();
    }
    until("the answer is sent", Duration.ofSeconds(20), () -> !sim.textsTo(user).isEmpty());
    return sim.textsTo(user).get(0);
  }

  @Test
  void aPictureIsFetchedThroughMediaGetStoredAndATextOnlyVersionSaysItCannotReadIt() throws Exception {
    String user = "o-pic-" + UUID.randomUUID();
    String mediaId = "media-" + UUID.randomUUID();
    sim.media(mediaId, png);
    int fetches = sim.mediaFetches.get();
    Reply reply = sim.push(textUrl, text, WechatSimulator.image(text, user, mediaId, MSG_IDS.incrementAndGet()), false);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(answerTo(reply, user)).isEqualTo(ChatMessages.PICTURE_NOT_READ);
    assertThat(sim.mediaFetches.get() - fetches).isEqualTo(1);
    // stored under the tenant with the type its bytes show, byte for byte, and shown by the user message
    assertThat(h.string("SELECT content_type || ':' || size_bytes || ':' || encode(data, 'base64') FROM channel_media "
        + "WHERE open_id = '" + user + "' AND tenant_id = '" + textTenant.id() + "'").replace("\n", ""))
        .isEqualTo("image/png:" + png.length + ":" + Base64.getEncoder().encodeToString(png));
    assertThat(h.count("SELECT count(*) FROM messages m JOIN channel_media p ON p.id = m.media_id "
        + "WHERE m.role = 'user' AND p.open_id = '" + user + "'")).isEqualTo(1);
    // the text-only model was never asked
    assertThat(h.remote.requests.stream().map(JsonObject::encode).filter(r -> r.contains("图片"))).isEmpty();

    // erasing the WeChat user erases the pictures too
    HttpResponse<String> erased = h.send(h.request("/v1/visitors/" + user)
        .header("Authorization", "Bearer " + textTenant.apiKey()).DELETE());
    assertThat(erased.statusCode()).isEqualTo(200);
    assertThat(h.count("SELECT count(*) FROM channel_media WHERE open_id = '" + user + "'")).isZero();
  }

  @Test
  void aVisionCapableVersionGetsThePictureAsAnImageUrlPartWithTheText() throws Exception {
    String user = "o-vision-" + UUID.randomUUID();
    String mediaId = "media-" + UUID.randomUUID();
    sim.media(mediaId, png);
    Reply reply = sim.push(visionUrl, vision, WechatSimulator.image(vision, user, mediaId, MSG_IDS.incrementAndGet()),
        false);
    assertThat(answerTo(reply, user)).isEqualTo("I see a red square.");
    JsonObject asked = visionRequests.stream().filter(r -> r.encode().contains("image_url")).findFirst().orElseThrow();
    JsonArray messages = asked.getJsonArray("messages");
    JsonArray parts = messages.getJsonObject(messages.size() - 1).getJsonArray("content");
    assertThat(parts.getJsonObject(0).getString("type")).isEqualTo("text");
    assertThat(parts.getJsonObject(1).getString("type")).isEqualTo("image_url");
    assertThat(parts.getJsonObject(1).getJsonObject("image_url").getString("url"))
        .isEqualTo("data:image/png;base64," + Base64.getEncoder().encodeToString(png));
    assertThat(asked.getString("model")).isEqualTo("vl");
  }

  @Test
  void mediaErrorsAreToldToTheUserAndNothingIsLost() throws Exception {
    String user = "o-bad-" + UUID.randomUUID();
    sim.media("media-html", "<html>not a picture</html>".getBytes());
    byte[] large = new byte[MAX_BYTES + 1];
    System.arraycopy(png, 0, large, 0, png.length);
    sim.media("media-large", large);
    Map<String, String> expected = Map.of(
        "media-unknown", "The picture could not be fetched", // WeChat's 40007 invalid media_id
        "media-html", "Only JPEG, PNG, GIF or WebP pictures",
        "media-large", "The picture is too large");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      sim.calls.clear();
      Reply reply = sim.push(textUrl, text, WechatSimulator.image(text, user, e.getKey(), MSG_IDS.incrementAndGet()),
          false);
      assertThat(reply.status()).isEqualTo(200);
      assertThat(answerTo(reply, user)).as(e.getKey()).contains(e.getValue());
    }
    assertThat(h.count("SELECT count(*) FROM channel_media WHERE open_id = '" + user + "'")).isZero();
    // every push is kept, answered
    until("all three answered", Duration.ofSeconds(20), () -> h.count("SELECT count(*) FROM channel_messages WHERE "
        + "open_id = '" + user + "' AND msg_type = 'image' AND status IN ('replied', 'sent')") == 3);
  }
}
