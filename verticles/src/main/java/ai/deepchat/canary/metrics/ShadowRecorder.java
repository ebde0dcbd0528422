package ai.deepchat.canary.metrics;

import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/**
 * Stores a shadow candidate's answer beside the stable answer the caller got, with their similarity
 * (cosine of bge-small embeddings, computed on the node's embeddings pool) and whether it reaches the agreement
 * threshold. The caller never sees the candidate's answer: the dispatcher hands it only to this class.
 */
public final class ShadowRecorder {

  private static final int MAX_TEXT = 100_000;

  private final WorkerExecutor embeddings;
  private final Database database;
  private final Embedder embedder;
  private final double threshold;

  public ShadowRecorder(Vertx vertx, Database database, Embedder embedder, double threshold) {
    this.embeddings = WorkerPools.of(vertx).open(WorkerPools.Kind.EMBEDDINGS);
    this.database = database;
    this.embedder = embedder;
    this.threshold = threshold;
  }

  /** One stored comparison. {@code similarity} and {@code agreed} are null when the candidate failed. */
  public record Stored(long id, Double similarity, Boolean agreed) {
  }

  /**
   * Records the pair for a turn whose assignment carried a shadow candidate. {@code candidateAnswer}
   * null with {@code candidateError} set records a failed shadow generation.
   */
  public Future<Stored> record(UUID tenantId, UUID conversationId, Assignment assignment, String prompt,
                               String stableAnswer, String candidateAnswer, String candidateError) {
    ModelVersion candidate = assignment.shadow();
    if (candidate == null || assignment.rollout() == null) {
      return Future.failedFuture(new IllegalArgumentException("the assignment has no shadow candidate"));
    }
    Future<Double> similarity = candidateAnswer == null ? Future.succeededFuture(null)
        : embeddings.executeBlocking(() -> similarity(stableAnswer, candidateAnswer), false);
    return similarity.compose(sim -> {
      Boolean agreed = sim == null ? null : sim >= threshold;
      VersionMetrics.shadow(VersionMetrics.tenantLabel(candidate), VersionMetrics.versionLabel(candidate), agreed == null ? "error" : agreed.toString());
      return database.inTenant(tenantId, c -> c.preparedQuery("INSERT INTO shadow_answers (tenant_id, rollout_id,"
              + " conversation_id, stable_version_id, candidate_version_id, prompt, stable_answer, candidate_answer,"
              + " candidate_error, similarity, agreed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
          .execute(Tuple.tuple().addUUID(tenantId).addUUID(assignment.rollout().id()).addUUID(conversationId)
              .addUUID(assignment.version().id()).addUUID(candidate.id()).addString(clip(prompt))
              .addString(clip(stableAnswer)).addString(candidateAnswer == null ? null : clip(candidateAnswer))
              .addString(candidateError == null ? null : clip(candidateError))
              .addValue(sim == null ? null : sim.floatValue()).addValue(agreed))
          .map(rows -> new Stored(rows.iterator().next().getLong("id"), sim, agreed)));
    });
  }

  double similarity(String a, String b) {
    if (a.strip().equals(b.strip())) {
      return 1.0;
    }
    return Vectors.cosine(embedder.embed(a), embedder.embed(b));
  }

  private static String clip(String s) {
    return s == null ? "" : s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) : s;
  }
}
