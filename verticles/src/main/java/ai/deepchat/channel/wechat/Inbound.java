package ai.deepchat.channel.wechat;

import me.chanjar.weixin.mp.bean.message.WxMpXmlMessage;

/**
 * A push as the channel handles it: who sent it, the key that makes WeChat's retries and duplicates one
 * message (MsgId; for events, sender and CreateTime), and either a question for the pipeline or a fixed
 * reply (welcome message, "voice not enabled"), or neither (unsubscribe: nothing to say). A picture is a
 * question whose {@code mediaRef} is WeChat's MediaId: the answering node fetches it through media/get
 * (never from the push's PicUrl, an outside URL).
 */
record Inbound(String toUser, String openId, String msgType, String dedupeKey, String question, String reply,
               String mediaRef) {

  Inbound(String toUser, String openId, String msgType, String dedupeKey, String question, String reply) {
    this(toUser, openId, msgType, dedupeKey, question, reply, null);
  }

  static final String VOICE_NOT_ENABLED = "暂时无法识别语音，请发送文字消息。(Voice messages are not recognised "
      + "on this account: please type your question.)";
  /** The text of a picture's user message (WeChat sends none with it): the model sees it beside the picture. */
  static final String PICTURE_TEXT = "[图片 picture]";
  static final String TEXT_ONLY = "已收到。目前我只能回答文字问题。(Received. I can answer text questions only.)";

  /** Reads a decrypted, already checked push; a body WxJava's model cannot read is refused (403), not a 500. */
  static Inbound parse(String xml, String welcome) {
    WxMpXmlMessage m;
    try {
      m = WxMpXmlMessage.fromXml(xml);
    } catch (RuntimeException e) {
      throw new ChannelCrypto.Refused("the push is not a message WeChat sends");
    }
    return of(m, welcome);
  }

  /** Reads WxJava's model of a push; {@code welcome}: the channel's welcome message. */
  static Inbound of(WxMpXmlMessage m, String welcome) {
    String type = nonNull(m.getMsgType());
    String from = m.getFromUser();
    if (from == null || from.isBlank() || type.isEmpty()) {
      throw new ChannelCrypto.Refused("the push names no sender or type");
    }
    String key = m.getMsgId() != null && m.getMsgId() != 0 ? "msg:" + m.getMsgId()
        : "event:" + from + ":" + m.getCreateTime() + ":" + nonNull(m.getEvent());
    return switch (type) {
      case "text" -> question(m, key, m.getContent());
      case "voice" -> m.getRecognition() == null || m.getRecognition().isBlank()
          ? reply(m, key, VOICE_NOT_ENABLED) : question(m, key, m.getRecognition());
      case "event" -> event(m, key, welcome);
      // a shared place or link is asked about by its label or title (and address), as the user would type it
      case "location" -> question(m, key, m.getLabel());
      case "link" -> question(m, key, m.getTitle() == null ? null
          : m.getTitle() + (m.getDescription() == null ? "" : "\n" + m.getDescription()));
      case "image" -> m.getMediaId() == null || m.getMediaId().isBlank() ? reply(m, key, WechatMedia.NOT_FETCHED)
          : new Inbound(m.getToUser(), m.getFromUser(), "image", key, PICTURE_TEXT, null, m.getMediaId());
      default -> reply(m, key, TEXT_ONLY);
    };
  }

  private static Inbound event(WxMpXmlMessage m, String key, String welcome) {
    String event = nonNull(m.getEvent()).toLowerCase(java.util.Locale.ROOT);
    return switch (event) {
      case "subscribe" -> welcome == null || welcome.isBlank() ? new Inbound(m.getToUser(), m.getFromUser(), "event",
          key, null, null) : reply(m, key, welcome);
      // a menu key is the question it asks (an FAQ entry's question or a prompt of the tenant's)
      case "click" -> m.getEventKey() == null || m.getEventKey().isBlank()
          ? new Inbound(m.getToUser(), m.getFromUser(), "event", key, null, null) : question(m, key, m.getEventKey());
      default -> new Inbound(m.getToUser(), m.getFromUser(), "event", key, null, null);
    };
  }

  private static Inbound question(WxMpXmlMessage m, String key, String text) {
    if (text == null || text.isBlank()) {
      return reply(m, key, TEXT_ONLY);
    }
    return new Inbound(m.getToUser(), m.getFromUser(), m.getMsgType(), key, text.strip(), null);
  }

  private static Inbound reply(WxMpXmlMessage m, String key, String text) {
    return new Inbound(m.getToUser(), m.getFromUser(), m.getMsgType(), key, null, text);
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }
}
