package ai.deepchat.console.knowledge;

import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import io.vertx.core.Future;

import java.nio.file.Path;
import java.util.UUID;

/**
 * What the console needs from the retrieval module: ingest an uploaded file, rebuild a knowledge
 * base's index, and run a query with its scores. Every call is scoped to one tenant.
 */
public interface KnowledgeBackend {

  /** Accepts the file (on disk; the caller deletes it afterwards) and ingests it in the background; the future holds the document id. */
  Future<UUID> upload(UUID tenantId, UUID knowledgeBaseId, String fileName, Path content);

  /** Removes a document, its chunks and their vectors. */
  Future<Void> deleteDocument(UUID tenantId, UUID knowledgeBaseId, UUID documentId);

  /** Ingests a document again from its stored original (a failed one is retried). */
  Future<Void> retry(UUID tenantId, UUID knowledgeBaseId, UUID documentId);

  /** Rebuilds the knowledge base's index from its stored chunks. */
  Future<Void> reindex(UUID tenantId, UUID knowledgeBaseId);

  Future<RetrieveReply> retrieve(UUID tenantId, UUID knowledgeBaseId, String query, int topK);

  /**
   * Stores an evaluation set given as CSV ({@code format} "csv") or JSON Lines; the future holds its id,
   * or fails with the parser's message naming the bad line.
   */
  Future<UUID> createEvaluationSet(UUID tenantId, UUID knowledgeBaseId, String name, String format, String content);

  /**
   * Starts a run of the set in the background; the future holds the run's id. {@code knowledge} and
   * {@code citation}: candidate routing thresholds for this run only (null: the tenant's own).
   */
  Future<UUID> startEvaluation(UUID tenantId, UUID knowledgeBaseId, UUID setId, Double knowledge, Double citation);

  /**
   * Adds a web source (one page, or the site from {@code url} within the limits) and starts its first
   * sync; {@code intervalMinutes} null for on demand only. The future holds the source's id.
   */
  Future<UUID> addWebSource(UUID tenantId, UUID knowledgeBaseId, String url, boolean wholeSite, int maxDepth,
                            int maxPages, Integer intervalMinutes);

  /** Starts a sync of the web source now (refused while one runs). */
  Future<Void> syncWebSource(UUID tenantId, UUID knowledgeBaseId, UUID sourceId);

  /**
   * Re-embeds the knowledge base into {@code model} in the background ({@code action} "start", switching
   * when done unless {@code manual}), switches to a re-embedding that is ready ("switch"), or cancels one
   * ("cancel"); progress is on the knowledge base's row. Unavailable where the node has no ingestion.
   */
  default Future<Void> reembed(UUID tenantId, UUID knowledgeBaseId, String action, String model, boolean manual) {
    return Future.failedFuture(new Unavailable("re-embedding is not offered on this node"));
  }

  /** Failure of a backend call that the console shows as "unavailable" rather than as an error. */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message) {
      super(message, null, false, false);
    }
  }
}
