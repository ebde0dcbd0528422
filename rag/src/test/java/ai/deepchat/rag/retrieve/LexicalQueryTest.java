package ai.deepchat.rag.retrieve;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LexicalQueryTest {

  @Test
  void splitsEnglishWordsAndChineseBigrams() {
    LexicalQuery q = LexicalQuery.of("如何在Linux上安装 Orbit-Server？我");
    assertThat(q.words()).isEqualTo("linux | orbit | server");
    assertThat(q.bigrams()).isEqualTo("'如何' | '何在' | '上安' | '安装' | '我'");
  }

  @Test
  void punctuationAndQuotesNeverReachTheTsquery() {
    LexicalQuery q = LexicalQuery.of("'); DROP TABLE chunks; -- | & ! :*");
    assertThat(q.words()).isEqualTo("drop | table | chunks");
    assertThat(q.bigrams()).isEmpty();
    assertThat(LexicalQuery.of("?! …").isEmpty()).isTrue();
  }

  @Test
  void reciprocalRankFusionAddsOneOverSixtyPlusRank() {
    Map<Long, Double> fused = ReciprocalRankFusion.fuse(List.of(List.of(1L, 2L), List.of(2L, 3L)));
    assertThat(fused.get(1L)).isCloseTo(1.0 / 61, within(1e-12));
    assertThat(fused.get(2L)).isCloseTo(1.0 / 62 + 1.0 / 61, within(1e-12));
    assertThat(fused.get(3L)).isCloseTo(1.0 / 62, within(1e-12));
    Map<Long, Double> weighted = ReciprocalRankFusion.fuse(List.of(List.of(1L, 2L), List.of(2L, 3L)), List.of(2.0, 1.0));
    assertThat(weighted.get(1L)).isCloseTo(2.0 / 61, within(1e-12));
    assertThat(weighted.get(2L)).isCloseTo(2.0 / 62 + 1.0 / 61, within(1e-12));
  }
}
