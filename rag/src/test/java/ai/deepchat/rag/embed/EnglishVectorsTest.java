package ai.deepchat.rag.embed;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.within;

class EnglishVectorsTest {

  @Test
  void englishCosinesAreShiftedOntoTheChineseScaleAndAveragedIn() {
    float[] query = {1, 0};
    // bge-small-zh alone: a .60, b .58, c .55, d .50; b and d are English, with bge-small-en cosines .50
    // and .90. The shift is the mean of (zh - en) over b and d, -0.16: b blends to .46, d to .62.
    Map<String, Double> scores = Map.of("a", 0.60, "b", 0.58, "c", 0.55, "d", 0.50);
    Map<String, float[]> english = Map.of("b", new float[] {0.5f, (float) Math.sqrt(0.75)},
        "d", new float[] {0.9f, (float) Math.sqrt(0.19)});
    Map<String, Double> blended = EnglishVectors.blend(scores, english, query);
    assertThat(blended.keySet()).containsExactly("d", "a", "c", "b");
    assertThat(blended.get("d")).isCloseTo(0.62, within(1e-6));
    assertThat(blended.get("b")).isCloseTo(0.46, within(1e-6));
    assertThat(blended.get("a")).isEqualTo(0.60);
    // without English vectors the order and scores are bge-small-zh's
    assertThat(EnglishVectors.blend(scores, Map.of(), query)).containsExactly(
        entry("a", 0.60), entry("b", 0.58), entry("c", 0.55), entry("d", 0.50));
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
