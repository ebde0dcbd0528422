package ai.deepchat.chat.intent;

import com.ibm.icu.text.Transliterator;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Text without CJK chars skips the transliterator, which would have left it unchanged anyway. */
class MatchTextTest {

  private final Transliterator simplified = Transliterator.getInstance("Traditional-Simplified");

  @Test
  void everyCharBelowTheCjkBlocksIsLeftAsItIs() {
    for (char c = 0; c < MatchText.FIRST_CJK; c++) {
      String one = String.valueOf(c);
      assertThat(simplified.transliterate(one)).as("U+%04X", (int) c).isEqualTo(one);
    }
  }

  @Test
  void textsOfThoseCharsAreLeftAsTheyAre() {
    Random random = new Random(25);
    for (int i = 0; i < 5_000; i++) {
      StringBuilder text = new StringBuilder();
      for (int n = 1 + random.nextInt(30); n > 0; n--) {
        text.append((char) random.nextInt(random.nextBoolean() ? 0x80 : MatchText.FIRST_CJK));
      }
      String t = text.toString();
      assertThat(MatchText.hasCjk(t)).isFalse();
      assertThat(simplified.transliterate(t)).isEqualTo(t);
    }
  }

  @Test
  void traditionalChineseIsStillSimplified() {
    assertThat(MatchText.of("怎麼聯繫客服？")).isEqualTo("怎么联系客服");
    assertThat(MatchText.of("HOW CAN I CONTACT SUPPORT?")).isEqualTo("how can i contact support");
  }
}
