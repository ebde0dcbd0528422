package ai.deepchat.console.models;

import ai.deepchat.console.web.ConsoleException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.util.UUID;

/**
 * State changes of model versions and rollouts, each inside the caller's tenant transaction:
 * draft → stable (first version), canary start (stable + candidate at a percentage), percentage
 * changes, promote (candidate becomes stable, the old stable retires) and rollback (candidate back to
 * draft). One active rollout per tenant. Traffic splitting itself belongs to the dispatch step.
 */
public final class RolloutService {

  private RolloutService() {
  }

  static ConsoleException conflict(String key) {
    return new ConsoleException(409, key);
  }

  private static Future<String> versionState(SqlConnection c, UUID id) {
    return c.preparedQuery("SELECT state FROM model_versions WHERE id = $1 FOR UPDATE").execute(Tuple.of(id))
        .map(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          return rows.iterator().next().getString("state");
        });
  }

  private static Future<Void> setState(SqlConnection c, UUID id, String state) {
    return c.preparedQuery("UPDATE model_versions SET state = $2, updated_at = now() WHERE id = $1")
        .execute(Tuple.of(id, state)).mapEmpty();
  }

  /** Makes a draft the stable version; allowed only while the tenant has no stable version. */
  public static Future<Void> makeStable(SqlConnection c, UUID version) {
    return versionState(c, version).compose(state -> {
      if (!"draft".equals(state)) {
        throw conflict("models.error.state");
      }
      return c.query("SELECT count(*) FROM model_versions WHERE state = 'stable'").execute();
    }).compose(rows -> {
      if (rows.iterator().next().getLong(0) > 0) {
        throw conflict("models.error.hasStable");
      }
      return setState(c, version, "stable");
    });
  }

  /** Retires a draft or a stable version no active rollout uses. */
  public static Future<Void> retire(SqlConnection c, UUID version) {
    return versionState(c, version).compose(state -> {
      if ("canary".equals(state) || "retired".equals(state)) {
        throw conflict("models.error.state");
      }
      return c.preparedQuery("SELECT 1 FROM rollouts WHERE state = 'active' AND stable_version_id = $1")
          .execute(Tuple.of(version));
    }).compose(rows -> {
      if (rows.size() > 0) {
        throw conflict("models.error.inRollout");
      }
      return setState(c, version, "retired");
    });
  }

  public static Future<UUID> startCanary(SqlConnection c, UUID tenantId, UUID stable, UUID candidate,
                                         BigDecimal percentage) {
    if (stable.equals(candidate)) {
      return Future.failedFuture(conflict("models.error.same"));
    }
    return c.query("SELECT 1 FROM rollouts WHERE state = 'active'").execute()
        .compose(active -> {
          if (active.size() > 0) {
            throw conflict("models.error.activeRollout");
          }
          return versionState(c, stable);
        })
        .compose(state -> {
          if (!"stable".equals(state)) {
            throw conflict("models.error.notStable");
          }
          return versionState(c, candidate);
        })
        .compose(state -> {
          if (!"draft".equals(state)) {
            throw conflict("models.error.notDraft");
          }
          return setState(c, candidate, "canary");
        })
        .compose(x -> c.preparedQuery("INSERT INTO rollouts (tenant_id, mode, stable_version_id, candidate_version_id, "
                + "percentage) VALUES ($1, 'canary', $2, $3, $4) RETURNING id")
            .execute(Tuple.of(tenantId, stable, candidate, percentage)))
        .map(rows -> rows.iterator().next().getUUID("id"));
  }

  private static Future<Row> activeRollout(SqlConnection c, UUID rollout) {
    return c.preparedQuery("SELECT stable_version_id, candidate_version_id, state FROM rollouts WHERE id = $1 FOR UPDATE")
        .execute(Tuple.of(rollout)).map(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          Row r = rows.iterator().next();
          if (!"active".equals(r.getString("state"))) {
            throw conflict("models.error.notActive");
          }
          return r;
        });
  }

  public static Future<Void> setPercentage(SqlConnection c, UUID rollout, BigDecimal percentage) {
    return activeRollout(c, rollout).compose(r -> c.preparedQuery(
        "UPDATE rollouts SET percentage = $2, updated_at = now() WHERE id = $1").execute(Tuple.of(rollout, percentage)))
        .mapEmpty();
  }

  public static Future<Void> promote(SqlConnection c, UUID rollout) {
    return activeRollout(c, rollout).compose(r -> setState(c, r.getUUID("stable_version_id"), "retired")
        .compose(x -> setState(c, r.getUUID("candidate_version_id"), "stable"))
        .compose(x -> c.preparedQuery("UPDATE rollouts SET state = 'promoted', percentage = 100, updated_at = now() "
            + "WHERE id = $1").execute(Tuple.of(rollout))))
        .mapEmpty();
  }

  public static Future<Void> rollback(SqlConnection c, UUID rollout) {
    return activeRollout(c, rollout).compose(r -> setState(c, r.getUUID("candidate_version_id"), "draft")
        .compose(x -> c.preparedQuery("UPDATE rollouts SET state = 'rolled_back', percentage = 0, updated_at = now() "
            + "WHERE id = $1").execute(Tuple.of(rollout))))
        .mapEmpty();
  }
}
