package ai.deepchat.canary.metrics;

import ai.deepchat.canary.guard.CanaryOutcomes;
import ai.deepchat.canary.guard.OutcomeWindow;
import ai.deepchat.canary.registry.ModelRegistry;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.ModelChooser;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One rollout's stable and candidate versions (or A/B arms) side by side over the rollout's window, from
 * PostgreSQL, so the same on every node: requests, error rate, time to first token and generation time
 * p50/p95 (rollout_outcomes, nearest rank as the guard measures), stored answers and their thumbs
 * (messages of each version within the window), visitor satisfaction (the mean of the latest 1-5 rating of
 * each rated conversation that has an answer of the version within the window), for a shadow rollout the similarity distribution with
 * the least similar answer pairs, the guard's bounds with this node's guard window, and the rollout's
 * events from the audit log. See docs/api.md, "Rollout comparison".
 */
public final class RolloutComparison {

  private static final int HISTOGRAM_BINS = 10;
  private static final int EXAMPLES = 5;
  private static final int EXAMPLE_CHARS = 1500;

  private final Database database;
  private final RolloutService rollouts;
  private final ModelChooser chooser;
  private final CanaryOutcomes outcomes;
  private final double agreementThreshold;

  public RolloutComparison(Database database, RolloutService rollouts, ModelChooser chooser, CanaryOutcomes outcomes,
                           double agreementThreshold) {
    this.database = database;
    this.rollouts = rollouts;
    this.chooser = chooser;
    this.outcomes = outcomes;
    this.agreementThreshold = agreementThreshold;
  }

  /** The comparison of a tenant's rollout; fails with a 404 CanaryException for an unknown or another tenant's. */
  public Future<JsonObject> of(UUID tenantId, UUID rolloutId) {
    Scope scope = Scope.tenant(tenantId);
    return rollouts.get(scope, rolloutId).compose(r -> database.inTenant(tenantId, c -> ModelRegistry.list(c, scope)
        .compose(versions -> {
          Map<UUID, ModelVersion> byId = new HashMap<>();
          versions.forEach(v -> byId.put(v.id(), v));
          Instant to = r.endedAt() == null ? Instant.now() : r.endedAt();
          List<UUID> ids = armIds(r);
          Future<RowSet<Row>> measured = c.preparedQuery("SELECT version_id AS v, count(*) AS requests,"
              + " count(*) FILTER (WHERE NOT ok) AS errors,"
              + " percentile_disc(0.5) WITHIN GROUP (ORDER BY first_token_ms) FILTER (WHERE ok) AS ttft50,"
              + " percentile_disc(0.95) WITHIN GROUP (ORDER BY first_token_ms) FILTER (WHERE ok) AS ttft95,"
              + " percentile_disc(0.5) WITHIN GROUP (ORDER BY total_ms) FILTER (WHERE ok) AS total50,"
              + " percentile_disc(0.95) WITHIN GROUP (ORDER BY total_ms) FILTER (WHERE ok) AS total95"
              + " FROM rollout_outcomes WHERE rollout_id = $1 GROUP BY version_id").execute(Tuple.of(r.id()));
          Future<RowSet<Row>> rated = c.preparedQuery("SELECT model_version_id AS v, count(*) AS answers,"
              + " count(*) FILTER (WHERE feedback = 1) AS up, count(*) FILTER (WHERE feedback = -1) AS down"
              + " FROM messages WHERE role = 'assistant' AND model_version_id = ANY($1) AND created_at >= $2"
              + " AND created_at <= $3 GROUP BY model_version_id")
              .execute(Tuple.of(ids.toArray(UUID[]::new), r.createdAt().atOffset(ZoneOffset.UTC),
                  to.atOffset(ZoneOffset.UTC)));
          Future<RowSet<Row>> satisfied = c.preparedQuery("SELECT a.v, count(*) AS conversations,"
              + " avg(r.score)::float8 AS mean FROM (SELECT DISTINCT model_version_id AS v, conversation_id FROM messages"
              + " WHERE role = 'assistant' AND model_version_id = ANY($1) AND created_at >= $2 AND created_at <= $3) a"
              + " JOIN LATERAL (SELECT score FROM conversation_ratings x WHERE x.conversation_id = a.conversation_id"
              + " ORDER BY x.created_at DESC, x.id LIMIT 1) r ON true GROUP BY a.v")
              .execute(Tuple.of(ids.toArray(UUID[]::new), r.createdAt().atOffset(ZoneOffset.UTC),
                  to.atOffset(ZoneOffset.UTC)));
          return measured.compose(m -> rated.compose(f -> satisfied.compose(sat -> events(c, r)
              .compose(ev -> shadow(c, r).map(sh -> {
            JsonObject out = new JsonObject()
                .put("rollout", r.toJson(rollouts.guardsOf(r)))
                .put("window", new JsonObject().put("from", r.createdAt().toString()).put("to", to.toString())
                    .put("seconds", Math.max(0, to.getEpochSecond() - r.createdAt().getEpochSecond())))
                .put("arms", arms(r, byId, byVersion(m), byVersion(f), byVersion(sat)))
                .put("guards", rollouts.guardsOf(r).toJson().put("nodeWindow", CanarySummary.stats(
                    r.active() ? outcomes.guardWindow(r) : new OutcomeWindow.Stats(0, 0, -1, -1, -1))))
                .put("events", ev);
            if (sh != null) {
              out.put("shadow", sh);
            }
            return out;
          })))));
        })));
  }

  /** The stable version first, then each version the rollout sends traffic to. */
  private static List<UUID> armIds(Rollout r) {
    List<UUID> ids = new ArrayList<>();
    ids.add(r.stableVersionId());
    r.candidates().forEach(id -> {
      if (!ids.contains(id)) {
        ids.add(id);
      }
    });
    return ids;
  }

  private JsonArray arms(Rollout r, Map<UUID, ModelVersion> versions, Map<UUID, Row> measured, Map<UUID, Row> rated,
                         Map<UUID, Row> satisfied) {
    JsonArray out = new JsonArray();
    for (UUID id : armIds(r)) {
      ModelVersion v = versions.get(id);
      boolean stable = id.equals(r.stableVersionId());
      Row m = measured.get(id);
      Row f = rated.get(id);
      Row sat = satisfied.get(id);
      long requests = m == null ? 0 : m.getLong("requests");
      long errors = m == null ? 0 : m.getLong("errors");
      long answers = f == null ? 0 : f.getLong("answers");
      long up = f == null ? 0 : f.getLong("up");
      long down = f == null ? 0 : f.getLong("down");
      out.add(new JsonObject()
          .put("versionId", id.toString())
          .put("name", v == null ? id.toString() : v.name())
          .put("role", stable ? "stable" : "candidate")
          .put("percentage", share(r, id) / 100.0)
          .put("live", v != null && chooser.live(v))
          .put("requests", requests)
          .put("errors", errors)
          .put("errorRate", requests == 0 ? null : (double) errors / requests)
          .put("ttftMs", new JsonObject().put("p50", millis(m, "ttft50")).put("p95", millis(m, "ttft95")))
          .put("totalMs", new JsonObject().put("p50", millis(m, "total50")).put("p95", millis(m, "total95")))
          .put("answers", answers)
          .put("thumbsUp", up)
          .put("thumbsDown", down)
          .put("feedbackRate", answers == 0 ? null : (double) (up + down) / answers)
          .put("positiveRate", up + down == 0 ? null : (double) up / (up + down))
          .put("satisfaction", sat == null ? null : sat.getDouble("mean"))
          .put("ratedConversations", sat == null ? 0L : sat.getLong("conversations")));
    }
    return out;
  }

  /** The share of conversations a version gets, in basis points (a shadow candidate: the shadowed share). */
  private static int share(Rollout r, UUID id) {
    if (r.mode() == RolloutMode.AB) {
      return r.arms().stream().filter(a -> a.versionId().equals(id)).mapToInt(a -> a.basisPoints()).sum();
    }
    boolean stable = id.equals(r.stableVersionId());
    if (r.mode() == RolloutMode.SHADOW) {
      return stable ? 10_000 : r.basisPoints();
    }
    return stable ? 10_000 - r.basisPoints() : r.basisPoints();
  }

  private static Long millis(Row row, String column) {
    if (row == null || row.getValue(column) == null) {
      return null;
    }
    return ((Number) row.getValue(column)).longValue();
  }

  private static Map<UUID, Row> byVersion(RowSet<Row> rows) {
    Map<UUID, Row> out = new HashMap<>();
    rows.forEach(row -> out.put(row.getUUID("v"), row));
    return out;
  }

  /** The rollout's audit rows, oldest first: start, percentage changes, promotion or (automatic) rollback. */
  private static Future<JsonArray> events(SqlConnection c, Rollout r) {
    return c.preparedQuery("SELECT action, actor, details, created_at FROM audit_log WHERE target = $1 ORDER BY id")
        .execute(Tuple.of(r.id().toString())).map(rows -> {
          JsonArray out = new JsonArray();
          rows.forEach(row -> out.add(new JsonObject().put("at", row.getOffsetDateTime("created_at").toInstant().toString())
              .put("action", row.getString("action")).put("actor", row.getString("actor"))
              .put("details", row.getJsonObject("details"))));
          return out;
        });
  }

  /** A shadow rollout's answer pairs: counts, the similarity histogram and the least similar pairs; else null. */
  private Future<JsonObject> shadow(SqlConnection c, Rollout r) {
    if (r.mode() != RolloutMode.SHADOW) {
      return Future.succeededFuture();
    }
    Tuple id = Tuple.of(r.id());
    return c.preparedQuery("SELECT count(*) AS pairs, count(*) FILTER (WHERE agreed) AS agreed,"
            + " count(*) FILTER (WHERE similarity IS NULL) AS failed, avg(similarity) AS mean,"
            + " percentile_disc(0.5) WITHIN GROUP (ORDER BY similarity) AS median FROM shadow_answers"
            + " WHERE rollout_id = $1").execute(id)
        .compose(totals -> c.preparedQuery("SELECT LEAST(GREATEST(width_bucket(similarity, 0, 1, " + HISTOGRAM_BINS
                + "), 1), " + HISTOGRAM_BINS + ") AS bin, count(*) AS n FROM shadow_answers WHERE rollout_id = $1"
                + " AND similarity IS NOT NULL GROUP BY 1").execute(id)
            .compose(bins -> c.preparedQuery("SELECT prompt, stable_answer, candidate_answer, candidate_error,"
                    + " similarity, agreed, created_at FROM shadow_answers WHERE rollout_id = $1"
                    + " ORDER BY similarity ASC NULLS FIRST, id DESC LIMIT " + EXAMPLES).execute(id)
                .map(examples -> {
                  Row t = totals.iterator().next();
                  long pairs = t.getLong("pairs");
                  long failed = t.getLong("failed");
                  long compared = pairs - failed;
                  long[] counts = new long[HISTOGRAM_BINS];
                  bins.forEach(b -> counts[b.getInteger("bin") - 1] = b.getLong("n"));
                  JsonArray histogram = new JsonArray();
                  for (int i = 0; i < HISTOGRAM_BINS; i++) {
                    histogram.add(new JsonObject().put("from", i / (double) HISTOGRAM_BINS)
                        .put("to", (i + 1) / (double) HISTOGRAM_BINS).put("count", counts[i]));
                  }
                  JsonArray pairsOut = new JsonArray();
                  examples.forEach(e -> pairsOut.add(new JsonObject().put("prompt", clip(e.getString("prompt")))
                      .put("stableAnswer", clip(e.getString("stable_answer")))
                      .put("candidateAnswer", clip(e.getString("candidate_answer")))
                      .put("candidateError", clip(e.getString("candidate_error")))
                      .put("similarity", number(e.getValue("similarity"))).put("agreed", e.getBoolean("agreed"))
                      .put("at", e.getOffsetDateTime("created_at").toInstant().toString())));
                  return new JsonObject().put("pairs", pairs).put("failed", failed).put("agreed", t.getLong("agreed"))
                      .put("agreementRate", compared == 0 ? null : (double) t.getLong("agreed") / compared)
                      .put("meanSimilarity", number(t.getValue("mean")))
                      .put("medianSimilarity", number(t.getValue("median")))
                      .put("threshold", agreementThreshold).put("histogram", histogram).put("examples", pairsOut);
                })));
  }

  private static Double number(Object value) {
    return value == null ? null : ((Number) value).doubleValue();
  }

  private static String clip(String s) {
    return s == null || s.length() <= EXAMPLE_CHARS ? s : s.substring(0, EXAMPLE_CHARS) + "…";
  }
}
