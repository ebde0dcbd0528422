package ai.deepchat.rag.eval;

import ai.deepchat.rag.RagException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EvalSetParserTest {

  @Test
  void csvWithQuotesCommasLineBreaksBomAndCrlf() {
    List<EvalQuestion> set = EvalSetParser.csv("\uFEFFSection,Question,Document\r\n"
        + "Refunds,\"Can I get my money back, \"\"fast\"\"?\",billing.md\r\n"
        + ",\"two\nlines\",退货政策\r\n\r\n");
    assertThat(set).containsExactly(
        new EvalQuestion("Can I get my money back, \"fast\"?", "billing.md", "Refunds"),
        new EvalQuestion("two\nlines", "退货政策", ""));
  }

  @Test
  void problemsNameTheirLine() {
    assertThatThrownBy(() -> EvalSetParser.csv("question,document\nfine,a.md\n,b.md\n"))
        .isInstanceOf(RagException.class).hasMessage("line 3 has no question");
    assertThatThrownBy(() -> EvalSetParser.csv("q,d\nx,y\n")).hasMessageContaining("line 1");
    assertThatThrownBy(() -> EvalSetParser.csv("question,document\n\"open,a.md\n"))
        .hasMessageContaining("line 2").hasMessageContaining("never closes");
    assertThatThrownBy(() -> EvalSetParser.jsonLines("{\"question\":\"a\",\"document\":\"b\"}\n[1]\n"))
        .hasMessage("line 2 is not a JSON object");
    assertThatThrownBy(() -> EvalSetParser.jsonLines("\n\n")).hasMessageContaining("no questions");
  }

  @Test
  void aQuestionMatchesByTitleOrFileNameAndBySectionOrPath() {
    EvalQuestion q = new EvalQuestion("?", "Speaker-Manual", "bluetooth pairing");
    assertThat(q.answeredBy("Aurora manual", "speaker-manual.md", "Aurora manual > Bluetooth pairing")).isTrue();
    assertThat(q.answeredBy("Aurora manual", "speaker-manual.md", "Aurora manual > Bluetooth pairing > Two phones")).isTrue();
    assertThat(q.answeredBy("Aurora manual", "speaker-manual.md", "Aurora manual > Factory reset")).isFalse();
    assertThat(q.answeredBy("Aurora manual", "other.md", "Aurora manual > Bluetooth pairing")).isFalse();
    EvalQuestion path = new EvalQuestion("?", "Aurora manual", "Aurora manual > Bluetooth pairing");
    assertThat(path.answeredBy("Aurora manual", "x.md", "Aurora manual > Bluetooth pairing")).isTrue();
    assertThat(path.answeredBy("Aurora manual", "x.md", "Aurora manual > Bluetooth")).isFalse();
  }
}
