package ai.deepchat.console.knowledge;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;

import java.nio.file.Path;
import java.util.UUID;

/**
 * Retrieval over the event bus ({@link Addresses#RAG_RETRIEVE}), which works wherever the retriever
 * runs in the cluster; ingestion is delegated to {@code ingest} when this node has one.
 */
public final class BusKnowledgeBackend implements KnowledgeBackend {

  private static final long TIMEOUT_MS = 10_000;

  private final Vertx vertx;
  private final KnowledgeBackend ingest;

  /** {@code ingest} may be null: uploads and re-indexing then report the service as unavailable. */
  public BusKnowledgeBackend(Vertx vertx, KnowledgeBackend ingest) {
    this.vertx = vertx;
    this.ingest = ingest;
  }

  @Override
  public Future<UUID> upload(UUID tenantId, UUID knowledgeBaseId, String fileName, Path content) {
    return ingest == null ? Future.failedFuture(new Unavailable("no ingestion service on this node"))
        : ingest.upload(tenantId, knowledgeBaseId, fileName, content);
  }

  @Override
  public Future<Void> deleteDocument(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return ingest == null ? Future.failedFuture(new Unavailable("no ingestion service on this node"))
        : ingest.deleteDocument(tenantId, knowledgeBaseId, documentId);
  }

  @Override
  public Future<Void> retry(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return ingest == null ? Future.failedFuture(new Unavailable("no ingestion service on this node"))
        : ingest.retry(tenantId, knowledgeBaseId, documentId);
  }

  @Override
  public Future<Void> reindex(UUID tenantId, UUID knowledgeBaseId) {
    return ingest == null ? Future.failedFuture(new Unavailable("no ingestion service on this node"))
        : ingest.reindex(tenantId, knowledgeBaseId);
  }

  @Override
  public Future<Void> reembed(UUID tenantId, UUID knowledgeBaseId, String action, String model, boolean manual) {
    return ingest == null ? Future.failedFuture(new Unavailable("no ingestion service on this node"))
        : ingest.reembed(tenantId, knowledgeBaseId, action, model, manual);
  }

  @Override
  public Future<RetrieveReply> retrieve(UUID tenantId, UUID knowledgeBaseId, String query, int topK) {
    return vertx.eventBus().<RetrieveReply>request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(tenantId.toString(), knowledgeBaseId.toString(), query, topK),
            new DeliveryOptions().setSendTimeout(TIMEOUT_MS))
        .map(msg -> msg.body())
        .recover(err -> BusFailure.of(err).retryable()
            ? Future.failedFuture(new Unavailable(err.getMessage())) : Future.failedFuture(err));
  }

  @Override
  public Future<UUID> createEvaluationSet(UUID tenantId, UUID knowledgeBaseId, String name, String format,
                                          String content) {
    return ingest == null ? Future.failedFuture(new Unavailable("no evaluation service on this node"))
        : ingest.createEvaluationSet(tenantId, knowledgeBaseId, name, format, content);
  }

  @Override
  public Future<UUID> startEvaluation(UUID tenantId, UUID knowledgeBaseId, UUID setId, Double knowledge,
                                      Double citation) {
    return ingest == null ? Future.failedFuture(new Unavailable("no evaluation service on this node"))
        : ingest.startEvaluation(tenantId, knowledgeBaseId, setId, knowledge, citation);
  }

  @Override
  public Future<UUID> addWebSource(UUID tenantId, UUID knowledgeBaseId, String url, boolean wholeSite, int maxDepth,
                                   int maxPages, Integer intervalMinutes) {
    return ingest == null ? Future.failedFuture(new Unavailable("no ingestion service on this node"))
        : ingest.addWebSource(tenantId, knowledgeBaseId, url, wholeSite, maxDepth, maxPages, intervalMinutes);
  }

  @Override
  public Future<Void> syncWebSource(UUID tenantId, UUID knowledgeBaseId, UUID sourceId) {
    return ingest == null ? Future.failedFuture(new Unavailable("no ingestion service on this node"))
        : ingest.syncWebSource(tenantId, knowledgeBaseId, sourceId);
  }
}
