package ai.deepchat.rag.faiss;

/** Distance of an index; the ordinal is the native code. */
public enum Metric {
  /** Larger is closer; cosine similarity for normalized vectors. */
  INNER_PRODUCT,
  /** Squared Euclidean distance; smaller is closer. */
  L2
}
