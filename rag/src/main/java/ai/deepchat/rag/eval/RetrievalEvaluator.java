package ai.deepchat.rag.eval;

import ai.deepchat.platform.rag.Confidence;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.rag.DocumentStatus;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.Retriever;
import ai.deepchat.rag.retrieve.Script;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Runs an evaluation set through the knowledge base's real retrieval, one question at a time (so the
 * timings are those of a lone query and a run never crowds out visitors' searches), and ranks where the
 * expected document and section first appear.
 */
public final class RetrievalEvaluator {

  /** Hits examined per question: MRR is MRR@10. */
  public static final int DEPTH = 10;

  private final KnowledgeBaseService knowledgeBases;
  private final Retriever retriever;

  public RetrievalEvaluator(KnowledgeBaseService knowledgeBases, Retriever retriever) {
    this.knowledgeBases = knowledgeBases;
    this.retriever = retriever;
  }

  public Future<EvalReport> run(UUID tenantId, UUID knowledgeBaseId, List<EvalQuestion> questions) {
    return run(tenantId, knowledgeBaseId, questions, RunThresholds.DEFAULTS, null);
  }

  /**
   * {@code thresholds}: those routing decides at, for the answered and cited figures;
   * {@code embeddingModel}: whose vectors to search (null: the knowledge base's; see {@link Retriever}).
   */
  public Future<EvalReport> run(UUID tenantId, UUID knowledgeBaseId, List<EvalQuestion> questions,
                                RunThresholds thresholds, String embeddingModel) {
    return run(tenantId, knowledgeBaseId, questions, thresholds, embeddingModel, null);
  }

  /** What a question is searched with beside it: its translation, or null (none; never fails). */
  @FunctionalInterface
  public interface Translator {
    Future<String> translate(UUID tenantId, String question);
  }

  /**
   * The same, each question searched with its translation by {@code translator} beside it as routing
   * searches it with the tenant's query translation on (null: untranslated). A question's time includes
   * its translation's.
   */
  public Future<EvalReport> run(UUID tenantId, UUID knowledgeBaseId, List<EvalQuestion> questions,
                                RunThresholds thresholds, String embeddingModel, Translator translator) {
    return knowledgeBases.knowledgeBase(tenantId, knowledgeBaseId).compose(base ->
        knowledgeBases.listDocuments(tenantId, knowledgeBaseId).compose(documents -> {
          Map<String, DocumentStatus> byId = documents.stream()
              .collect(Collectors.toMap(d -> d.id().toString(), Function.identity()));
          List<QuestionResult> results = new ArrayList<>();
          Future<Void> chain = Future.succeededFuture();
          for (EvalQuestion question : questions) {
            chain = chain.compose(v -> ask(tenantId, knowledgeBaseId, question, documents, byId, thresholds,
                embeddingModel, translator)).map(r -> {
              results.add(r);
              return null;
            });
          }
          return chain.map(v -> new EvalReport(base.version(), List.copyOf(results)));
        }));
  }

  private static boolean expects(EvalQuestion question, RetrievedChunk hit, Map<String, DocumentStatus> byId) {
    DocumentStatus doc = byId.get(hit.documentId());
    return question.answeredBy(hit.documentTitle(), doc == null ? "" : doc.sourceName(), hit.sectionPath());
  }

  private Future<QuestionResult> ask(UUID tenantId, UUID knowledgeBaseId, EvalQuestion question,
                                     List<DocumentStatus> documents, Map<String, DocumentStatus> byId,
                                     RunThresholds thresholds, String embeddingModel, Translator translator) {
    DocumentStatus expected = documents.stream()
        .filter(d -> question.isDocument(d.title(), d.sourceName())).findFirst().orElse(null);
    boolean cross = expected != null && Script.of(question.question()) != Script.of(expected.title());
    long start = System.nanoTime();
    Future<String> translation = translator == null ? Future.succeededFuture(null)
        : translator.translate(tenantId, question.question());
    return translation.compose(translated -> retriever.retrieveTranslated(tenantId, knowledgeBaseId,
        question.question(), translated, DEPTH, embeddingModel)).map(reply -> {
      double millis = (System.nanoTime() - start) / 1e6;
      List<RetrievedChunk> hits = reply.hits();
      int rank = 0;
      for (int i = 0; i < hits.size() && rank == 0; i++) {
        if (expects(question, hits.get(i), byId)) {
          rank = i + 1;
        }
      }
      // as routing sees it: the router's top hits, those at the citation threshold cited
      List<RetrievedChunk> sources = Confidence.sources(hits.subList(0, Math.min(Confidence.TOP_K, hits.size())),
          thresholds.citation());
      boolean answered = !sources.isEmpty() && Confidence.confident(sources, thresholds.knowledge());
      boolean cited = answered && sources.stream().anyMatch(h -> expects(question, h, byId));
      RetrievedChunk top = hits.isEmpty() ? null : hits.get(0);
      return new QuestionResult(question, rank, cross, expected != null,
          top == null ? "" : top.documentTitle(), top == null ? "" : top.sectionPath(), millis, answered, cited);
    });
  }
}
