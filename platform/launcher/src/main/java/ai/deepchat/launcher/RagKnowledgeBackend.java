package ai.deepchat.launcher;

import ai.deepchat.console.knowledge.KnowledgeBackend;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.eval.EvalQuestion;
import ai.deepchat.rag.eval.EvalRun;
import ai.deepchat.rag.eval.EvalSet;
import ai.deepchat.rag.eval.EvalSetParser;
import ai.deepchat.rag.web.CrawlPlan;
import ai.deepchat.rag.web.WebSource;
import io.vertx.core.Future;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * The console's knowledge operations on this node's RAG module: uploads are validated and ingested in
 * the background by it (progress on the document row, which the console polls), deletions remove the
 * document's chunks and vectors, and retrieval runs in process. The RAG module's refusals reach the
 * console as {@link BusFailure.Failed} (its contract), so the console never names a RAG type.
 */
final class RagKnowledgeBackend implements KnowledgeBackend {

  private final Rag rag;

  RagKnowledgeBackend(Rag rag) {
    this.rag = rag;
  }

  @Override
  public Future<UUID> upload(UUID tenantId, UUID knowledgeBaseId, String fileName, Path content) {
    return rag.knowledgeBases().upload(tenantId, knowledgeBaseId, fileName, content)
        .map(upload -> upload.accepted().id()).recover(RagKnowledgeBackend::refusal);
  }

  @Override
  public Future<Void> deleteDocument(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return rag.knowledgeBases().deleteDocument(tenantId, knowledgeBaseId, documentId).recover(RagKnowledgeBackend::refusal);
  }

  @Override
  public Future<Void> retry(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return rag.knowledgeBases().resync(tenantId, knowledgeBaseId, documentId).<Void>mapEmpty()
        .recover(RagKnowledgeBackend::refusal);
  }

  /**
   * The RAG module checks each index against PostgreSQL when it loads it and rebuilds it when they
   * differ; it offers no explicit rebuild call yet, so the console says so instead of pretending.
   */
  @Override
  public Future<Void> reindex(UUID tenantId, UUID knowledgeBaseId) {
    return Future.failedFuture(new KnowledgeBackend.Unavailable("explicit re-indexing is not offered by the RAG module"));
  }

  @Override
  public Future<Void> reembed(UUID tenantId, UUID knowledgeBaseId, String action, String model, boolean manual) {
    var service = rag.knowledgeBases();
    Future<?> done = switch (action) {
      case "start" -> service.startReembedding(tenantId, knowledgeBaseId, model, !manual);
      case "switch" -> service.switchReembedding(tenantId, knowledgeBaseId);
      case "cancel" -> service.cancelReembedding(tenantId, knowledgeBaseId);
      default -> Future.failedFuture(new IllegalArgumentException("unknown re-embedding action " + action));
    };
    return done.<Void>mapEmpty().recover(RagKnowledgeBackend::refusal);
  }

  @Override
  public Future<RetrieveReply> retrieve(UUID tenantId, UUID knowledgeBaseId, String query, int topK) {
    return rag.retriever().retrieve(tenantId, knowledgeBaseId, query, topK).recover(RagKnowledgeBackend::refusal);
  }

  private static <T> Future<T> refusal(Throwable err) {
    return Future.failedFuture(err instanceof RagException rag ? rag.error().failure().exception(rag.getMessage()) : err);
  }

  @Override
  public Future<UUID> createEvaluationSet(UUID tenantId, UUID knowledgeBaseId, String name, String format,
                                          String content) {
    return Future.<List<EvalQuestion>>succeededFuture()
        .map(x -> "csv".equals(format) ? EvalSetParser.csv(content) : EvalSetParser.jsonLines(content))
        .compose(questions -> rag.evaluations().createSet(tenantId, knowledgeBaseId, name, questions))
        .map(EvalSet::id).recover(RagKnowledgeBackend::refusal);
  }

  @Override
  public Future<UUID> startEvaluation(UUID tenantId, UUID knowledgeBaseId, UUID setId, Double knowledge,
                                      Double citation) {
    return rag.evaluations().start(tenantId, knowledgeBaseId, setId, null, knowledge, citation, null).map(EvalRun::id)
        .recover(RagKnowledgeBackend::refusal);
  }

  @Override
  public Future<UUID> addWebSource(UUID tenantId, UUID knowledgeBaseId, String url, boolean wholeSite, int maxDepth,
                                   int maxPages, Integer intervalMinutes) {
    CrawlPlan plan = wholeSite ? new CrawlPlan(url, true, maxDepth, maxPages) : CrawlPlan.singlePage(url);
    return rag.webSources().create(tenantId, knowledgeBaseId, plan, intervalMinutes).map(WebSource::id)
        .recover(RagKnowledgeBackend::refusal);
  }

  @Override
  public Future<Void> syncWebSource(UUID tenantId, UUID knowledgeBaseId, UUID sourceId) {
    return rag.webSources().sync(tenantId, knowledgeBaseId, sourceId).<Void>mapEmpty()
        .recover(RagKnowledgeBackend::refusal);
  }
}
