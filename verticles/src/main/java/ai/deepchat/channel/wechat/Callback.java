package ai.deepchat.channel.wechat;

import io.vertx.core.MultiMap;
import org.w3c.dom.Document;

/**
 * Checks and opens what WeChat sends to a channel's URL. Official accounts sign every request with the
 * token (signature); in safe mode, and always on WeCom, the message is encrypted and signed with the
 * ciphertext (msg_signature). A plaintext channel refuses encrypted pushes, a safe one plaintext pushes;
 * a compatible one takes both and answers in kind.
 */
final class Callback {

  /** A push whose signature held, as plain XML, and whether the reply must be encrypted. */
  record Opened(String xml, boolean encrypted) {
  }

  private Callback() {
  }

  /** The text to echo for URL verification (WeCom's echostr is encrypted). */
  static String verifyUrl(ChannelConfig ch, MultiMap q) {
    String echo = q.get("echostr");
    if (echo == null) {
      throw new ChannelCrypto.Refused("echostr missing");
    }
    ChannelCrypto crypto = ch.crypto();
    if (ch.wecom()) {
      crypto.checkMessageSignature(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), echo);
      return crypto.decrypt(echo);
    }
    crypto.checkSignature(q.get("signature"), q.get("timestamp"), q.get("nonce"));
    return echo;
  }

  static Opened open(ChannelConfig ch, MultiMap q, String body) {
    ChannelCrypto crypto = ch.crypto();
    boolean encrypted = ch.wecom() || "aes".equalsIgnoreCase(q.get("encrypt_type"));
    if (!ch.wecom()) {
      crypto.checkSignature(q.get("signature"), q.get("timestamp"), q.get("nonce"));
    }
    Document envelope = SafeXml.parse(body);
    if (!encrypted) {
      if ("safe".equals(ch.mode())) {
        throw new ChannelCrypto.Refused("this channel is in safe mode: plaintext pushes are refused");
      }
      return new Opened(body, false);
    }
    if ("plaintext".equals(ch.mode()) && !ch.wecom()) {
      throw new ChannelCrypto.Refused("this channel is in plaintext mode: encrypted pushes are refused");
    }
    String cipher = SafeXml.child(envelope, "Encrypt");
    if (cipher == null || cipher.isBlank()) {
      throw new ChannelCrypto.Refused("encrypted push without Encrypt");
    }
    crypto.checkMessageSignature(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), cipher);
    String xml = crypto.decrypt(cipher);
    SafeXml.parse(xml);
    return new Opened(xml, true);
  }

  /** The reply body: {@code plainXml} as is, or sealed for an encrypted push. */
  static String seal(ChannelConfig ch, String plainXml, boolean encrypted) {
    return encrypted ? ch.crypto().seal(plainXml) : plainXml;
  }
}
