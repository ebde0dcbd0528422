package ai.deepchat.rag;

import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import io.vertx.core.Future;

import java.util.UUID;

/** Hybrid (vector + lexical, reciprocal rank fusion) search in one tenant's knowledge base. */
public interface Retriever {

  int MAX_TOP_K = 50;

  /**
   * The best {@code topK} chunks for {@code query}, best first. Fails with {@link RagError#NOT_FOUND}
   * for a knowledge base the tenant does not have.
   */
  Future<RetrieveReply> retrieve(UUID tenantId, UUID knowledgeBaseId, String query, int topK);

  /**
   * The same through the vectors of {@code embeddingModel}: the knowledge base's own model (null means
   * that one), or the model of a re-embedding that is "ready" and not switched yet, to evaluate it first.
   */
  Future<RetrieveReply> retrieve(UUID tenantId, UUID knowledgeBaseId, String query, int topK, String embeddingModel);

  /**
   * The same for {@code query} with its {@code translation} into the other language (null: none), which
   * is searched beside it; hits are ranked for the question as asked.
   */
  default Future<RetrieveReply> retrieveTranslated(UUID tenantId, UUID knowledgeBaseId, String query,
                                                   String translation, int topK) {
    return retrieveTranslated(tenantId, knowledgeBaseId, query, translation, topK, null);
  }

  /** Both: the translation searched beside the question, through the vectors of {@code embeddingModel}. */
  Future<RetrieveReply> retrieveTranslated(UUID tenantId, UUID knowledgeBaseId, String query, String translation,
                                           int topK, String embeddingModel);
}
