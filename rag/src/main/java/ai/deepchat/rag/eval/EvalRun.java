package ai.deepchat.rag.eval;

import io.vertx.core.json.JsonArray;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * One run of an evaluation set, as the history shows it. Figures are null while it runs.
 *
 * @param candidateKnowledgeBaseId the knowledge base the set ran against in place of its own, or null
 * @param knowledgeThreshold       the routing thresholds the run measured at ({@link RunThresholds}); null
 *                                 for runs from before they were kept
 * @param answeredRate             share of questions retrieval would answer at them; citedRecall: answered
 *                                 with the expected passage cited
 * @param queryTranslation         the questions were searched with their translation by the tenant's model
 *                                 beside them (null for runs from before it was kept)
 * @param results per-question ranks (JSON, see {@link Evaluations#resultsJson}); null in listings
 */
public record EvalRun(UUID id, UUID knowledgeBaseId, UUID evalSetId, String status, String error,
                      Long knowledgeBaseVersion, String embeddingModel, int questionCount,
                      Double recallAt1, Double recallAt5, Double mrr, Integer crossLanguageCount,
                      Double crossRecallAt5, Double crossMrr, Double p95Millis,
                      OffsetDateTime startedAt, OffsetDateTime finishedAt, UUID candidateKnowledgeBaseId,
                      Double knowledgeThreshold, Double citationThreshold, Double answeredRate,
                      Double citedRecall, Boolean queryTranslation, JsonArray results) {
}
