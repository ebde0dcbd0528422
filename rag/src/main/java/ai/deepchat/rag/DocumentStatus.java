package ai.deepchat.rag;

import java.util.UUID;

/**
 * One document and where its ingestion stands.
 *
 * @param status   pending, processing, ready or failed
 * @param progress 0..1 while processing, 1 when ready
 * @param error    why ingestion failed, or null
 */
public record DocumentStatus(UUID id, UUID knowledgeBaseId, String title, String sourceName,
                             String contentType, long sizeBytes, String status, double progress,
                             String error, int chunkCount) {

  public boolean finished() {
    return "ready".equals(status) || "failed".equals(status);
  }
}
