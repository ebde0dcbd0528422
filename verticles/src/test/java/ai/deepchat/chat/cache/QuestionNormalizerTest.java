package ai.deepchat.chat.cache;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QuestionNormalizerTest {

  @Test
  void foldsWidthCaseAndWhitespace() {
    assertThat(QuestionNormalizer.normalize("  What IS\tthe  Price?\n")).isEqualTo("what is the price?");
    assertThat(QuestionNormalizer.normalize("ＡＢＣ　价格？")).isEqualTo("abc 价格?");
    assertThat(QuestionNormalizer.normalize("STRASSE")).isEqualTo(QuestionNormalizer.normalize("straße"));
  }

  @Test
  void keysSeparateTenantsKnowledgeVersionsModelsAndIntents() {
    ResponseCache cache = new ResponseCache(100, Duration.ofMinutes(1));
    var answer = new ResponseCache.Answer("42", "", List.of());
    cache.put(ResponseCache.key("t1", "What?", "kb", 1, "m", "knowledge"), answer);
    assertThat(cache.get(ResponseCache.key("t1", " what? ", "kb", 1, "m", "knowledge"))).contains(answer);
    assertThat(cache.get(ResponseCache.key("t2", "What?", "kb", 1, "m", "knowledge"))).isEmpty();
    assertThat(cache.get(ResponseCache.key("t1", "What?", "kb", 2, "m", "knowledge"))).isEmpty();
    assertThat(cache.get(ResponseCache.key("t1", "What?", "kb", 1, "m2", "knowledge"))).isEmpty();
    assertThat(cache.get(ResponseCache.key("t1", "What?", "kb", 1, "m", "chat"))).isEmpty();
  }

  @Test
  void staysWithinItsSize() {
    ResponseCache cache = new ResponseCache(10, Duration.ofMinutes(1));
    for (int i = 0; i < 1000; i++) {
      cache.put(ResponseCache.key("t", "q" + i, null, 0, "m", "chat"), new ResponseCache.Answer("a", "", List.of()));
    }
    long present = 0;
    for (int i = 0; i < 1000; i++) {
      present += cache.get(ResponseCache.key("t", "q" + i, null, 0, "m", "chat")).isPresent() ? 1 : 0;
    }
    assertThat(present).isLessThanOrEqualTo(20);
  }
}
