package ai.deepchat.rag.retrieve;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QueryBridgeTest {

  private final QueryBridge bridge = QueryBridge.helpCentre();

  @Test
  void anEnglishQuestionGetsTheChineseTermsOfItsWords() {
    assertThat(bridge.bridge("Can I go swimming with the watch on?").split(" "))
        .contains("游泳", "手表");
    assertThat(bridge.bridge("Do my reward points expire?").split(" ")).contains("积分", "过期");
  }

  @Test
  void aChineseQuestionGetsTheEnglishTerms() {
    assertThat(bridge.bridge("订阅可以用支付宝付款吗？").split(" ")).contains("subscription", "alipay", "payment");
  }

  @Test
  void theLongestPhraseWinsAndItsWordsAreNotMatchedAgain() {
    // "factory reset" is one entry; "reset" alone would add 重置 as well
    assertThat(bridge.bridge("factory reset the speaker").split(" ")).contains("恢复出厂设置", "音箱")
        .doesNotContain("重置");
    assertThat(bridge.bridge("恢复出厂设置")).isEqualTo("factory reset");
  }

  @Test
  void nothingKnownBridgesToNothing() {
    assertThat(bridge.bridge("the quick brown fox")).isEmpty();
    assertThat(bridge.bridge("")).isEmpty();
  }

  @Test
  void inflectionsMeetTheirEntry() {
    assertThat(QueryBridge.stem("expires")).isEqualTo(QueryBridge.stem("expire"));
    assertThat(QueryBridge.stem("refunds")).isEqualTo(QueryBridge.stem("refund"));
    assertThat(QueryBridge.stem("charged")).isEqualTo(QueryBridge.stem("charge"));
  }

  @Test
  void aMalformedLexiconLineIsRefused() {
    assertThatThrownBy(() -> QueryBridge.parse(List.of("account 账号")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("account");
  }
}
