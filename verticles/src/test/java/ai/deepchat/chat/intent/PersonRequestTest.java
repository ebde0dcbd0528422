package ai.deepchat.chat.intent;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The router's "a person, please" test set, English and Chinese, with the questions about people it must not take. */
class PersonRequestTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "I want to talk to a human", "Can I speak with a real person?", "let me talk to someone from your support team",
      "connect me to an agent please", "Transfer me to customer service", "I need a human", "get me a representative",
      "human agent", "Agent!", "representative please", "live agent", "Could you put me through to a live person?",
      "chat with a member of your team", "ＴＡＬＫ ＴＯ Ａ ＨＵＭＡＮ",
      "转人工", "人工客服", "我要人工服务", "找客服", "请帮我转接人工", "人工", "人工！", "能不能联系一下工作人员",
      "我想和真人聊", "叫个真人来", "我要找个活人说话", "跟客服沟通一下"})
  void asksForAPerson(String text) {
    assertThat(PersonRequest.asked(text)).as(text).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "What is your human resources policy?", "Is this agent an AI?", "How many people work at your company?",
      "personal data protection", "Tell me about human rights", "Who is the person in charge of shipping?",
      "what does a travel agent do", "Write a story about a lonely robot talking to the moon",
      "人工智能是什么", "人工智能可以取代客服吗", "客服电话是多少", "你们的工作时间", "人工费怎么算",
      "真人秀节目推荐", "我的订单什么时候到", "hello", ""})
  void otherQuestionsAreNot(String text) {
    assertThat(PersonRequest.asked(text)).as(text).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"转人工", "talk to a human"})
  void repliesInTheQuestionsLanguage(String text) {
    assertThat(PersonRequest.reply(text)).isEqualTo(text.startsWith("t") ? PersonRequest.REPLY_EN : PersonRequest.REPLY_ZH);
  }
}
