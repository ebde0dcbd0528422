package ai.deepchat.rag.eval;

import io.vertx.core.json.JsonArray;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * One run of an evaluation set, as the history shows it. Figures are null while it runs.
 *
 * @param candidateKnowledgeBaseId the knowledge base the set ran against in place of its own, or null
 * @param results per-question ranks (JSON, see {@link Evaluations#resultsJson}); null in listings
 */
public record EvalRun(UUID id, UUID knowledgeBaseId, UUID evalSetId, String status, String error,
                      Long knowledgeBaseVersion, String embeddingModel, int questionCount,
                      Double recallAt1, Double recallAt5, Double mrr, Integer crossLanguageCount,
                      Double crossRecallAt5, Double crossMrr, Double p95Millis,
                      OffsetDateTime startedAt, OffsetDateTime finishedAt, UUID candidateKnowledgeBaseId,
                      JsonArray results) {
}
