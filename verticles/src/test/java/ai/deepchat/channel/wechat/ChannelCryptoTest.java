package ai.deepchat.channel.wechat;

import io.vertx.core.MultiMap;
import me.chanjar.weixin.common.util.crypto.SHA1;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Known answers from WeChat's published sample code (WXBizMsgCrypt: the official account's Java sample
 * test, the WeCom Java sample's URL verification, the Python sample's decryption), then round trips and
 * refusals.
 */
class ChannelCryptoTest {

  // WXBizMsgCryptTest (official account Java sample): encryption with a fixed random string
  static final String KEY_A = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  static final String APP_A = "wxb11529c136998cb6";
  static final String REPLY_A = "我是中文abcd123";
  static final String CIPHER_A = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
  static final String REPLY_A2 = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName>"
      + "<FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime>"
      + "<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId>"
      + "<Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
  static final String CIPHER_A2 = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

  // WeCom Java sample, testVerifyUrl: encrypted echostr, CorpID as receive id
  static final String TOKEN_B = "QDG6eK";
  static final String KEY_B = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
  static final String CORP_B = "wx5823bf96d3bd56c7";

  // Python sample (Sample.py): a signed, encrypted push and its plaintext (newlines kept)
  static final String TOKEN_C = "spamtest";
  static final String APP_C = "wx2c2769f8efd9abc2";
  static final String BODY_C = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>";
  static final String EXPECT_C = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>";

  static ChannelConfig channel(String kind, String appId, String token, String key, String mode) {
    return new ChannelConfig(UUID.randomUUID(), UUID.randomUUID(), kind, "test", appId, "1000002", "secret", token,
        key, mode, "", true);
  }

  static MultiMap pushQuery(String token, String timestamp, String nonce, String msgSignature) {
    MultiMap q = MultiMap.caseInsensitiveMultiMap().add("timestamp", timestamp).add("nonce", nonce)
        .add("signature", SHA1.gen(token, timestamp, nonce));
    if (msgSignature != null) {
      q.add("encrypt_type", "aes").add("msg_signature", msgSignature);
    }
    return q;
  }

  @Test
  void encryptsWeChatsSampleExactly() {
    ChannelCrypto crypto = new ChannelCrypto("pamtest", KEY_A, APP_A);
    assertThat(crypto.encrypt("aaaabbbbccccdddd", REPLY_A)).isEqualTo(CIPHER_A);
    assertThat(crypto.encrypt("aaaabbbbccccdddd", REPLY_A2)).isEqualTo(CIPHER_A2);
    assertThat(crypto.decrypt(CIPHER_A)).isEqualTo(REPLY_A);
    assertThat(crypto.decrypt(CIPHER_A2)).isEqualTo(REPLY_A2);
  }

  @Test
  void verifiesWeComsSampleUrl() {
    MultiMap q = MultiMap.caseInsensitiveMultiMap().add("msg_signature", "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3")
        .add("timestamp", "1409659589").add("nonce", "263014780")
        .add("echostr", "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==");
    assertThat(Callback.verifyUrl(channel("wecom", CORP_B, TOKEN_B, KEY_B, "safe"), q)).isEqualTo("1616140317555161061");
    // the same echo for another CorpID, or with another signature, is refused
    assertThatThrownBy(() -> Callback.verifyUrl(channel("wecom", "wx0000000000000000", TOKEN_B, KEY_B, "safe"), q))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("another account");
    q.set("msg_signature", "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd4");
    assertThatThrownBy(() -> Callback.verifyUrl(channel("wecom", CORP_B, TOKEN_B, KEY_B, "safe"), q))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("signature");
  }

  @Test
  void opensWeChatsSamplePush() {
    MultiMap q = pushQuery(TOKEN_C, "1409735669", "1320562132", "5d197aaffba7e9b25a30732f161a50dee96bd5fa");
    Callback.Opened opened = Callback.open(channel("wechat", APP_C, TOKEN_C, KEY_A, "safe"), q, BODY_C);
    assertThat(opened.xml()).isEqualTo(EXPECT_C);
    assertThat(opened.encrypted()).isTrue();
    assertThat(Callback.open(channel("wechat", APP_C, TOKEN_C, KEY_A, "compatible"), q, BODY_C).xml()).isEqualTo(EXPECT_C);

    // for another AppID (WxJava alone would accept it), tampered, or in a plaintext-only channel: refused
    assertThatThrownBy(() -> Callback.open(channel("wechat", "wx_other_appid", TOKEN_C, KEY_A, "safe"), q, BODY_C))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("another account");
    assertThatThrownBy(() -> Callback.open(channel("wechat", APP_C, TOKEN_C, KEY_A, "plaintext"), q, BODY_C))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("plaintext mode");
    MultiMap forged = pushQuery(TOKEN_C, "1409735669", "1320562133", "5d197aaffba7e9b25a30732f161a50dee96bd5fa");
    assertThatThrownBy(() -> Callback.open(channel("wechat", APP_C, TOKEN_C, KEY_A, "safe"), forged, BODY_C))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("signature");
  }

  @Test
  void plaintextPushesNeedTheTokensSignatureAndAreRefusedInSafeMode() {
    String body = "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
        + "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>";
    MultiMap q = pushQuery("tok", "1700000000", "n1", null);
    assertThat(Callback.open(channel("wechat", APP_A, "tok", null, "plaintext"), q, body).xml()).isEqualTo(body);
    assertThat(Callback.open(channel("wechat", APP_A, "tok", KEY_A, "compatible"), q, body).encrypted()).isFalse();
    assertThatThrownBy(() -> Callback.open(channel("wechat", APP_A, "tok", KEY_A, "safe"), q, body))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("safe mode");
    assertThatThrownBy(() -> Callback.open(channel("wechat", APP_A, "other-token", null, "plaintext"), q, body))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("signature");
    assertThatThrownBy(() -> Callback.open(channel("wechat", APP_A, "tok", null, "plaintext"),
        MultiMap.caseInsensitiveMultiMap(), body)).isInstanceOf(ChannelCrypto.Refused.class);
  }

  @Test
  void sealedRepliesOpenAgainAndNameTheAccount() {
    ChannelConfig ch = channel("wechat", APP_A, "tok", KEY_A, "safe");
    String reply = "<xml><Content><![CDATA[你好 world]]></Content></xml>";
    Document sealed = SafeXml.parse(Callback.seal(ch, reply, true));
    MultiMap q = pushQuery("tok", SafeXml.child(sealed, "TimeStamp"), SafeXml.child(sealed, "Nonce"),
        SafeXml.child(sealed, "MsgSignature"));
    String envelope = "<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[" + SafeXml.child(sealed, "Encrypt")
        + "]]></Encrypt></xml>";
    assertThat(Callback.open(ch, q, envelope).xml()).isEqualTo(reply);
    assertThat(Callback.seal(ch, reply, false)).isEqualTo(reply);
  }

  @Test
  void documentTypesAreRefusedBeforeAnyEntityIsRead() {
    String xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        + "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><MsgType>text</MsgType>"
        + "<Content>&x;</Content><MsgId>1</MsgId></xml>";
    MultiMap q = pushQuery("tok", "1700000000", "n1", null);
    assertThatThrownBy(() -> Callback.open(channel("wechat", APP_A, "tok", null, "plaintext"), q, xxe))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("document type");
    String billion = "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><xml>&b;</xml>";
    assertThatThrownBy(() -> SafeXml.parse(billion)).isInstanceOf(ChannelCrypto.Refused.class);

    // inside the encryption too: a well-signed ciphertext of a DTD is refused after decryption
    ChannelConfig ch = channel("wechat", APP_A, "tok", KEY_A, "safe");
    String cipher = ch.crypto().encrypt("aaaabbbbccccdddd", xxe);
    MultiMap sq = pushQuery("tok", "1700000000", "n1", SHA1.gen("tok", "1700000000", "n1", cipher));
    assertThatThrownBy(() -> Callback.open(ch, sq, "<xml><Encrypt>" + cipher + "</Encrypt></xml>"))
        .isInstanceOf(ChannelCrypto.Refused.class).hasMessageContaining("document type");
  }

  @Test
  void garbageCiphertextIsRefusedNotThrownAsSomethingElse() {
    ChannelCrypto crypto = new ChannelCrypto("tok", KEY_A, APP_A);
    for (String bad : new String[] {"!!!not-base64!!!", "YWJj", "AAAAAAAAAAAAAAAAAAAAAA==", ""}) {
      assertThatThrownBy(() -> crypto.decrypt(bad)).isInstanceOf(ChannelCrypto.Refused.class);
    }
    assertThatThrownBy(() -> new ChannelCrypto("tok", null, APP_A).decrypt(CIPHER_A))
        .isInstanceOf(ChannelCrypto.Refused.class);
  }
}
