package ai.deepchat.rag.embed;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class EnglishVectorsTest {

  @Test
  void englishIdsAreReorderedWithinTheirOwnSlots() {
    float[] query = {1, 0};
    // a (CJK, no English vector) keeps slot 1 and c keeps slot 3; b and d swap: d is nearer the query
    List<String> ranking = List.of("a", "b", "c", "d");
    Map<String, float[]> english = Map.of("b", new float[] {0, 1}, "d", new float[] {1, 0});
    assertThat(EnglishVectors.reorder(ranking, english, query)).containsExactly("a", "d", "c", "b");
  }

  @Test
  void onlyEnglishTextGetsASecondVectorAndOnlyInBgeSmallZhBases() {
    assertThat(EnglishVectors.applies(EmbeddingModels.BGE_SMALL_ZH)).isTrue();
    assertThat(EnglishVectors.applies(EmbeddingModels.BGE_SMALL_EN)).isFalse();
    List<float[]> vectors = EnglishVectors.embed(List.of("退款多久到账？", "How long does a refund take?", " "));
    assertThat(vectors.get(0)).isNull();
    assertThat(vectors.get(1)).hasSize(EnglishVectors.model().dimension());
    assertThat(vectors.get(2)).isNull();
    assertThat(Arrays.equals(vectors.get(1), new float[384])).isFalse();
  }
}
