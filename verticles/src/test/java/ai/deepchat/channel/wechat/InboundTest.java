package ai.deepchat.channel.wechat;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pushes as the channel reads them: dedupe keys, questions, fixed replies, and bodies that are no message. */
class InboundTest {

  private static String push(String type, String extra, String msgId) {
    return "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1700000000</CreateTime>"
        + "<MsgType>" + type + "</MsgType>" + extra + (msgId == null ? "" : "<MsgId>" + msgId + "</MsgId>") + "</xml>";
  }

  @Test
  void messagesAreKeyedByMsgIdAndEventsBySenderAndTime() {
    Inbound text = Inbound.parse(push("text", "<Content> hello </Content>", "42"), "");
    assertThat(text.dedupeKey()).isEqualTo("msg:42");
    assertThat(text.question()).isEqualTo("hello");
    Inbound sub = Inbound.parse(push("event", "<Event>subscribe</Event>", null), "welcome!");
    assertThat(sub.dedupeKey()).isEqualTo("event:o1:1700000000:subscribe");
    assertThat(sub.reply()).isEqualTo("welcome!");
    assertThat(Inbound.parse(push("event", "<Event>subscribe</Event>", null), "").reply()).isNull();
    assertThat(Inbound.parse(push("event", "<Event>unsubscribe</Event>", null), "w").reply()).isNull();
    assertThat(Inbound.parse(push("location", "<Label>Shanghai, Nanjing Rd</Label>", "43"), "").question())
        .isEqualTo("Shanghai, Nanjing Rd");
    // a picture is a question carrying WeChat's MediaId (fetched through media/get, never from PicUrl)
    Inbound picture = Inbound.parse(push("image", "<PicUrl>http://127.0.0.1/p.jpg</PicUrl><MediaId>m1</MediaId>", "44"), "");
    assertThat(picture.question()).isEqualTo(Inbound.PICTURE_TEXT);
    assertThat(picture.mediaRef()).isEqualTo("m1");
    assertThat(picture.toString()).doesNotContain("127.0.0.1");
    Inbound noMedia = Inbound.parse(push("image", "<PicUrl>http://127.0.0.1/p.jpg</PicUrl>", "45"), "");
    assertThat(noMedia.question()).isNull();
    assertThat(noMedia.reply()).isEqualTo(WechatMedia.NOT_FETCHED);
  }

  @Test
  void aBodyThatIsNoWeChatMessageIsRefused() {
    // a CreateTime that is not a number: WxJava's model cannot read it
    assertThatThrownBy(() -> Inbound.parse(push("text", "<Content>x</Content>", "not-a-number"), ""))
        .isInstanceOf(ChannelCrypto.Refused.class);
    assertThatThrownBy(() -> Inbound.parse("<xml><Content>x</Content></xml>", ""))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("no sender");
  }
}
