package ai.deepchat.rag.embed;

import java.util.List;

/**
 * A sentence-embedding model. Blocking and CPU-bound: call only on worker threads. Vectors are
 * L2-normalized, so inner product is cosine similarity.
 */
public interface Embedder {

  String name();

  int dimension();

  /** Vectors of passages to index, one per text, in order. */
  List<float[]> embedPassages(List<String> texts);

  /** Vector of a search query; models that expect an instruction prefix get it here. */
  float[] embedQuery(String query);
}
