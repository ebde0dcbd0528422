package ai.deepchat.chat.intent;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Recognises a visitor asking for a person ("talk to a human", "转人工", "我要找客服") in English and
 * Chinese, so the router hands the conversation over instead of answering. Patterns, not embeddings: the
 * request is short and formulaic, a miss costs one more turn (the button stays), and a false hit on a
 * question about people ("human resources policy", "人工智能") would be worse, so the phrases need a
 * verb of contact or a word that only means staff.
 */
final class PersonRequest {

  static final String REPLY_EN = "Let me connect you with a member of our team. Please wait a moment.";
  static final String REPLY_ZH = "正在为您转接人工客服，请稍候。";

  private static final Pattern EN = Pattern.compile(
      "\\b(?:talk|speak|chat|connect|transfer|put)\\b(?:\\s+\\w+){0,3}?\\s+(?:to|with)\\s+(?:a\\s+|an\\s+|the\\s+|your\\s+|some\\s+)?"
          + "(?:real\\s+|live\\s+)?(?:human|person|agent|someone|somebody|representative|operator|staff|people"
          + "|customer\\s+(?:service|support)|support\\s+(?:team|agent)|member\\s+of\\s+(?:your|the)\\s+team)\\b"
          + "|\\b(?:real|live)\\s+(?:human|person|agent)\\b"
          + "|\\bhuman\\s+(?:agent|support|operator|being\\s+please)\\b"
          + "|\\b(?:i\\s+(?:want|need)|get\\s+me|give\\s+me)\\s+(?:a\\s+|an\\s+)?(?:human|person|agent|representative|operator)\\b"
          + "|^\\s*(?:human|agent|representative|operator)(?:\\s+please)?\\s*[.!?]*\\s*$");

  private static final Pattern ZH = Pattern.compile(
      "转人工|人工(?:客服|服务|坐席|座席|接待|回复)|(?:找|要|接|叫|联系|呼叫|转接?)\\s*(?:个|一个|一下)?\\s*(?:人工|真人|客服|工作人员|活人|专员|坐席)"
          + "|^\\s*人工\\s*[。！!？?]*\\s*$|(?:和|跟|与)(?:真人|人工|客服|工作人员)(?:聊|说|谈|沟通|对话)");

  private PersonRequest() {
  }

  static boolean asked(String text) {
    if (text == null || text.isBlank() || text.length() > 300) {
      return false; // a long message is a question that mentions people, not a request for one
    }
    String folded = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
    if (folded.contains("人工智能")) {
      folded = folded.replace("人工智能", "");
    }
    return EN.matcher(folded).find() || ZH.matcher(folded).find();
  }

  static String reply(String text) {
    return text.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN)
        ? REPLY_ZH : REPLY_EN;
  }
}
