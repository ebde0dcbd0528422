package ai.deepchat.channel.wechat;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pictures are recognised by their bytes; the loopback WeChat serves media/get as WeChat does. */
@ExtendWith(VertxExtension.class)
class WechatMediaTest {

  private static Buffer bytes(int... b) {
    Buffer out = Buffer.buffer();
    for (int x : b) {
      out.appendByte((byte) x);
    }
    return out;
  }

  @Test
  void theFourImageTypesAreKnownByTheirFirstBytesAndNothingElseIs() {
    assertThat(WechatMedia.sniff(bytes(0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10))).isEqualTo("image/jpeg");
    assertThat(WechatMedia.sniff(bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0))).isEqualTo("image/png");
    assertThat(WechatMedia.sniff(Buffer.buffer("GIF89a..."))).isEqualTo("image/gif");
    assertThat(WechatMedia.sniff(Buffer.buffer("GIF87a"))).isEqualTo("image/gif");
    assertThat(WechatMedia.sniff(Buffer.buffer("RIFF\0\0\0\0WEBPVP8 "))).isEqualTo("image/webp");
    // an SVG, HTML, a RIFF that is a WAV, a truncated PNG signature, nothing: no picture
    for (String s : new String[] {"<svg xmlns='http://www.w3.org/2000/svg'/>", "<html>", "RIFF\0\0\0\0WAVEfmt ",
        "GIF88a", ""}) {
      assertThat(WechatMedia.sniff(Buffer.buffer(s))).as(s).isNull();
    }
    assertThat(WechatMedia.sniff(bytes(0x89, 'P', 'N', 'G'))).isNull();
    assertThatThrownBy(() -> WechatMedia.picture(Buffer.buffer("<svg/>")))
        .isInstanceOfSatisfying(WechatMedia.Refused.class, r -> assertThat(r.reply).isEqualTo(WechatMedia.NOT_AN_IMAGE));
  }

  @Test
  void theLoopbackWechatServesMediaGetForItsTokensOnly(Vertx vertx) throws Exception {
    LoopbackWechat wechat = await(new LoopbackWechat(vertx, "wx-media", "secret").start());
    try {
      byte[] jpeg = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xDB, 1, 2, 3};
      wechat.media("m1", jpeg);
      HttpClient http = HttpClient.newHttpClient();
      String token = json(get(http, wechat.apiBase() + "/cgi-bin/token?grant_type=client_credential"
          + "&appid=wx-media&secret=secret")).getString("access_token");
      HttpResponse<byte[]> picture = get(http, wechat.apiBase() + "/cgi-bin/media/get?access_token=" + token
          + "&media_id=m1");
      assertThat(picture.body()).isEqualTo(jpeg);
      assertThat(json(get(http, wechat.apiBase() + "/cgi-bin/media/get?access_token=" + token + "&media_id=m2"))
          .getInteger("errcode")).isEqualTo(40007);
      assertThat(json(get(http, wechat.apiBase() + "/cgi-bin/media/get?access_token=forged&media_id=m1"))
          .getInteger("errcode")).isEqualTo(40001);
    } finally {
      await(wechat.close());
    }
  }

  private static HttpResponse<byte[]> get(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
  }
}
