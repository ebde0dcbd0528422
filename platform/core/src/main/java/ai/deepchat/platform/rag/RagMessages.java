package ai.deepchat.platform.rag;

import java.util.List;

/** Event-bus contracts of retrieval. */
public final class RagMessages {

  private RagMessages() {
  }

  public static final List<Class<? extends Record>> TYPES = List.of(
      RetrieveRequest.class, RetrieveReply.class, RetrievedChunk.class);

  /**
   * {@code translation}: the query in the knowledge base's other language, from the tenant's own model
   * (the router's query translation), searched beside it; null when there is none.
   */
  public record RetrieveRequest(String tenantId, String knowledgeBaseId, String query, int topK, String translation) {
    public RetrieveRequest(String tenantId, String knowledgeBaseId, String query, int topK) {
      this(tenantId, knowledgeBaseId, query, topK, null);
    }
  }

  /** One hit with its scores; section path like "Install > Linux". */
  public record RetrievedChunk(String chunkId, String documentId, String documentTitle,
                               String sectionPath, String text, double lexicalScore,
                               double vectorScore, double fusedScore) {
  }

  public record RetrieveReply(String knowledgeBaseId, long knowledgeBaseVersion,
                              List<RetrievedChunk> hits) {
  }
}
