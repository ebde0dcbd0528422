package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.rag.retrieve.Script;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A second opinion on English text for knowledge bases embedded with bge-small-zh: English chunks also
 * get a bge-small-en vector (chunks.embedding_en), and retrieval blends it into the vector search's
 * order ({@link #blend}). bge-small-zh ranks English passages against each other less well than
 * bge-small-en, but only it ranks Chinese and English on one scale (docs/performance.md).
 */
public final class EnglishVectors {

  private EnglishVectors() {
  }

  /** Whether a knowledge base of {@code model} keeps and uses English vectors. */
  public static boolean applies(String model) {
    return EmbeddingModels.BGE_SMALL_ZH.equals(model);
  }

  public static Embedder model() {
    return EmbeddingModels.get(EmbeddingModels.BGE_SMALL_EN);
  }

  /** Blocking: a bge-small-en vector per English text, null for the others. */
  public static List<float[]> embed(List<String> texts) {
    List<String> english = texts.stream().filter(EnglishVectors::isEnglish).toList();
    return place(texts, english.isEmpty() ? List.of() : model().embedPassages(english));
  }

  /** {@code embedded} (the vectors of the English ones of {@code texts}, in order) placed beside their texts. */
  public static List<float[]> place(List<String> texts, List<float[]> embedded) {
    List<float[]> out = new ArrayList<>(texts.size());
    int next = 0;
    for (String text : texts) {
      out.add(isEnglish(text) ? embedded.get(next++) : null);
    }
    return out;
  }

  public static boolean isEnglish(String text) {
    return !text.isBlank() && Script.of(text) == Script.LATIN;
  }

  /**
   * The vector search's candidates ({@code scores}: bge-small-zh cosines, in any order) scored again,
   * best first: an id with an English vector scores the mean of its bge-small-zh cosine and its
   * bge-small-en cosine to {@code query} (a bge-small-en query vector), the latter shifted onto
   * bge-small-zh's scale by the mean difference of the two models' cosines over those ids; the others
   * keep their bge-small-zh cosine. Both models' opinions count for English text, and bge-small-zh
   * still places it against Chinese text (docs/performance.md: MRR 0.816 to 0.835 and held-out 0.700 to
   * 0.743 against reordering the English ids among their own slots, each at its best fusion weight).
   */
  public static <K> Map<K, Double> blend(Map<K, Double> scores, Map<K, float[]> english, float[] query) {
    Map<K, Double> en = new HashMap<>();
    double shift = 0;
    for (Map.Entry<K, Double> e : scores.entrySet()) {
      float[] vector = english.get(e.getKey());
      if (vector != null) {
        double cosine = Vectors.cosine(vector, query);
        en.put(e.getKey(), cosine);
        shift += e.getValue() - cosine;
      }
    }
    double meanShift = en.isEmpty() ? 0 : shift / en.size();
    Map<K, Double> out = new LinkedHashMap<>();
    scores.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), en.containsKey(e.getKey())
            ? (e.getValue() + en.get(e.getKey()) + meanShift) / 2 : e.getValue()))
        .sorted(Map.Entry.comparingByValue(Comparator.reverseOrder()))
        .forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }
}
