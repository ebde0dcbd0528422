package ai.deepchat.chat.intent;

/**
 * The "I don't know, here is how to reach a person" answer: the tenant's own text
 * ({@code tenant_settings.handoff_reply}) when set, else a default in the question's language.
 */
final class HandoffReply {

  static final String DEFAULT_EN = "I'm sorry, I don't know the answer to that. A member of our team can help: "
      + "leave your question and how to reach you here, and we will get back to you.";
  static final String DEFAULT_ZH = "抱歉，这个问题我暂时无法回答。请在此留下您的问题和联系方式，我们的工作人员会尽快与您联系。";

  private HandoffReply() {
  }

  static String of(String tenantReply, String question) {
    if (tenantReply != null && !tenantReply.isBlank()) {
      return tenantReply;
    }
    return question.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN)
        ? DEFAULT_ZH : DEFAULT_EN;
  }
}
