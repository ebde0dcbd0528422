package ai.deepchat.rag;

import java.util.UUID;

/**
 * A tenant's knowledge base; {@code version} grows with every ingestion and deletion;
 * {@code answersChat} when it is the one the tenant's chat answers from; {@code reembedding} the latest
 * re-embedding into another model (null when there never was one).
 */
public record KnowledgeBase(UUID id, String name, String description, String embeddingModel,
                            long version, boolean answersChat, Reembedding reembedding) {

  /**
   * The model a search through {@code requested} uses (null: the knowledge base's own), which may also be
   * that of a re-embedding "ready" to switch, to evaluate it first; anything else is refused.
   */
  public String searchModel(String requested) {
    if (requested == null || requested.equals(embeddingModel)) {
      return embeddingModel;
    }
    if (reembedding != null && "ready".equals(reembedding.status()) && reembedding.model().equals(requested)) {
      return requested;
    }
    throw new RagException(RagError.INVALID_INPUT, "embedding_model " + requested + " is neither the knowledge "
        + "base's model nor that of a re-embedding ready to switch (start one with switch: manual)");
  }
}
