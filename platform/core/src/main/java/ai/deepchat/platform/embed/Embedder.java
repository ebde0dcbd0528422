package ai.deepchat.platform.embed;

import java.util.List;

/**
 * A sentence-embedding model: the contract other modules compile against. The rag module's
 * {@code EmbeddingModels} is the one registry of implementations, and the launcher hands them to
 * their users (FAQ matching, shadow comparison). Blocking and CPU-bound: call only on worker threads
 * (the node's {@code embeddings} pool). Every text is clipped the same way before the model sees it
 * (the model's token window); vectors are L2-normalized, so inner product is cosine similarity; a
 * blank text gets the zero vector, similar to nothing ({@link Vectors#cosine}).
 */
public interface Embedder {

  String name();

  int dimension();

  /** Vectors of passages to index, one per text, in order. */
  List<float[]> embedPassages(List<String> texts);

  /** Vector of a search query; models that expect an instruction prefix get it here. */
  float[] embedQuery(String query);

  /**
   * Vector of a text compared with texts of its own kind (an FAQ question with questions, an answer
   * with answers): no query instruction, like a passage.
   */
  default float[] embed(String text) {
    return embedPassages(List.of(text)).get(0);
  }

  /** Passage vectors with the model tokens they took (the usage an embeddings API reports). */
  record Counted(List<float[]> vectors, int tokens) {
  }

  default Counted embedCounted(List<String> texts) {
    return new Counted(embedPassages(texts), 0);
  }

  /** Whether the model reads all of {@code text}; longer texts are clipped by the embed methods. */
  default boolean fits(String text) {
    return true;
  }
}
