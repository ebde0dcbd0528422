package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.rag.retrieve.Script;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A second opinion on English text for knowledge bases embedded with bge-small-zh: English chunks also
 * get a bge-small-en vector (chunks.embedding_en), and retrieval reorders the English chunks among the
 * vector search's candidates by it, each keeping the slots English chunks held. bge-small-zh ranks
 * English passages against each other less well than bge-small-en, but only it ranks Chinese and
 * English on one scale, so the language mix of the list stays bge-small-zh's (docs/performance.md:
 * MRR 0.758 to 0.801 on the evaluation set, held-out MRR 0.604 to 0.704).
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
   * {@code ranking} (best first) with the ids that have an English vector reordered among their own
   * slots by cosine to {@code query} (a bge-small-en query vector); the other ids stay where they are.
   */
  public static <K> List<K> reorder(List<K> ranking, Map<K, float[]> english, float[] query) {
    List<K> byEnglish = ranking.stream().filter(english::containsKey)
        .sorted(Comparator.comparingDouble((K id) -> -Vectors.cosine(english.get(id), query))).toList();
    List<K> out = new ArrayList<>(ranking.size());
    int next = 0;
    for (K id : ranking) {
      out.add(english.containsKey(id) ? byEnglish.get(next++) : id);
    }
    return out;
  }
}
