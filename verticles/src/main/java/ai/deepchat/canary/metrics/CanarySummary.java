package ai.deepchat.canary.metrics;

import ai.deepchat.canary.guard.CanaryOutcomes;
import ai.deepchat.canary.guard.OutcomeWindow;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.ModelChooser;
import ai.deepchat.canary.rollout.Routing;
import ai.deepchat.canary.rollout.RolloutService;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The metrics summary the admin page and automation read: for each version of a tenant that is not
 * retired, this node's recent requests, errors and time to first token, the stored answers and their
 * thumbs up/down (from PostgreSQL, so cluster-wide), the shadow comparisons, and the active rollout with
 * this node's guard window.
 */
public final class CanarySummary {

  private final Database database;
  private final ModelChooser chooser;
  private final CanaryOutcomes outcomes;
  private final RolloutService rollouts;

  public CanarySummary(Database database, ModelChooser chooser, CanaryOutcomes outcomes, RolloutService rollouts) {
    this.database = database;
    this.chooser = chooser;
    this.outcomes = outcomes;
    this.rollouts = rollouts;
  }

  public Future<JsonObject> of(UUID tenantId) {
    Scope scope = Scope.tenant(tenantId);
    return chooser.routing(scope).compose(routing -> database.inTenant(tenantId, c -> c.query(
            "SELECT model_version_id AS v, count(*) AS answers, count(*) FILTER (WHERE feedback = 1) AS up,"
                + " count(*) FILTER (WHERE feedback = -1) AS down FROM messages WHERE role = 'assistant'"
                + " AND model_version_id IS NOT NULL GROUP BY model_version_id").execute()
        .compose(stored -> c.query("SELECT candidate_version_id AS v, count(*) AS pairs,"
                + " count(*) FILTER (WHERE agreed) AS agreed, count(*) FILTER (WHERE agreed IS NULL) AS failed,"
                + " avg(similarity) AS mean FROM shadow_answers GROUP BY candidate_version_id").execute()
            .map(shadow -> {
              Map<UUID, Row> storedBy = new HashMap<>();
              stored.forEach(r -> storedBy.put(r.getUUID("v"), r));
              Map<UUID, Row> shadowBy = new HashMap<>();
              shadow.forEach(r -> shadowBy.put(r.getUUID("v"), r));
              return render(routing, storedBy, shadowBy);
            }))));
  }

  private JsonObject render(Routing routing, Map<UUID, Row> stored, Map<UUID, Row> shadow) {
    JsonArray versions = new JsonArray();
    routing.versions().values().stream().sorted(Comparator.comparing(ModelVersion::name)).forEach(v -> {
      boolean serving = routing.serving() != null && routing.serving().id().equals(v.id());
      JsonObject item = new JsonObject().put("id", v.id().toString()).put("name", v.name())
          .put("state", v.state().sql()).put("serving", serving).put("live", chooser.live(v))
          .put("recent", stats(outcomes.recent(v.id())));
      Row s = stored.get(v.id());
      item.put("stored", new JsonObject().put("answers", s == null ? 0 : s.getLong("answers"))
          .put("thumbsUp", s == null ? 0 : s.getLong("up")).put("thumbsDown", s == null ? 0 : s.getLong("down")));
      Row sh = shadow.get(v.id());
      if (sh != null) {
        long pairs = sh.getLong("pairs");
        long compared = pairs - sh.getLong("failed");
        item.put("shadow", new JsonObject().put("pairs", pairs).put("failed", sh.getLong("failed"))
            .put("agreed", sh.getLong("agreed"))
            .put("agreementRate", compared == 0 ? null : (double) sh.getLong("agreed") / compared)
            .put("meanSimilarity", sh.getValue("mean") == null ? null : ((Number) sh.getValue("mean")).doubleValue()));
      }
      versions.add(item);
    });
    JsonObject out = new JsonObject().put("versions", versions);
    if (routing.active() != null) {
      out.put("rollout", routing.active().toJson(rollouts.guardsOf(routing.active()))
          .put("guardWindow", stats(outcomes.guardWindow(routing.active()))));
    }
    return out;
  }

  static JsonObject stats(OutcomeWindow.Stats s) {
    return new JsonObject().put("requests", s.requests()).put("errors", s.errors()).put("errorRate", s.errorRate())
        .put("p50TtftMs", s.p50TtftMillis() < 0 ? null : s.p50TtftMillis())
        .put("p95TtftMs", s.p95TtftMillis() < 0 ? null : s.p95TtftMillis())
        .put("tokensPerSecond", s.tokensPerSecond() < 0 ? null : s.tokensPerSecond());
  }
}
