package ai.deepchat.canary.rollout;

import ai.deepchat.canary.registry.Actor;
import ai.deepchat.canary.registry.CanaryException;
import ai.deepchat.canary.registry.ChangeLog;
import ai.deepchat.canary.registry.ModelRegistry;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.registry.VersionState;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.SqlStates;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Starts, adjusts, promotes and rolls back rollouts. Each change is one transaction with its audit row
 * and, after commit, a cluster-wide reload of the scope's routing. At most one rollout per scope is
 * active; its stable version is the scope's serving stable version when it starts.
 */
public final class RolloutService {

  /**
   * What to start: a canary or shadow of one candidate at a percentage, or A/B arms; for A/B, the share of
   * turns also answered by another arm in the background (pair sampling, basis points).
   */
  public record StartRequest(RolloutMode mode, UUID candidateVersionId, int basisPoints, List<Arm> arms,
                             JsonObject guards, int pairBasisPoints) {

    public StartRequest(RolloutMode mode, UUID candidateVersionId, int basisPoints, List<Arm> arms, JsonObject guards) {
      this(mode, candidateVersionId, basisPoints, arms, guards, 0);
    }
  }

  private final Database database;
  private final ChangeLog changes;
  private final GuardSettings defaults;

  public RolloutService(Database database, ChangeLog changes, GuardSettings defaults) {
    this.database = database;
    this.changes = changes;
    this.defaults = defaults;
  }

  public GuardSettings guardsOf(Rollout r) {
    return GuardSettings.from(r.guards(), defaults);
  }

  public Future<Rollout> start(Scope scope, StartRequest req, Actor actor) {
    try {
      validate(req);
    } catch (CanaryException e) {
      return Future.failedFuture(e);
    }
    return scope.tx(database, c -> ModelRegistry.servingStable(c, scope).compose(stable -> {
      if (stable == null) {
        throw CanaryException.conflict("no_stable", "there is no stable version to compare against; activate one first");
      }
      List<UUID> candidates = req.mode() == RolloutMode.AB
          ? req.arms().stream().map(Arm::versionId).filter(v -> !v.equals(stable.id())).toList()
          : List.of(req.candidateVersionId());
      if (candidates.isEmpty() || candidates.contains(stable.id()) && req.mode() != RolloutMode.AB) {
        throw CanaryException.invalid("the candidate must differ from the serving stable version");
      }
      Future<Void> moved = Future.succeededFuture();
      for (UUID id : candidates) {
        moved = moved.compose(x -> ModelRegistry.get(c, scope, id, true)).compose(v -> {
          if (v.state() != VersionState.DRAFT) {
            throw CanaryException.conflict("candidate_not_draft", "candidate " + v.name() + " is " + v.state().sql()
                + "; only a draft can be tried in a rollout");
          }
          return ModelRegistry.setState(c, scope, id, VersionState.CANARY);
        });
      }
      String sql = "INSERT INTO " + scope.rollouts() + " (" + (scope.platform() ? "" : "tenant_id, ")
          + "mode, stable_version_id, candidate_version_id, percentage, arms, guards, pair_sampling) VALUES ("
          + (scope.platform() ? "" : "$8, ") + "$1, $2, $3, $4, $5, $6, $7) RETURNING " + Rollout.COLUMNS;
      Tuple args = Tuple.of(req.mode().sql(), stable.id(), req.mode() == RolloutMode.AB ? null : req.candidateVersionId(),
          BigDecimal.valueOf(req.basisPoints(), 2), Rollout.armsJson(req.mode() == RolloutMode.AB ? req.arms() : List.of()),
          req.guards() == null ? new JsonObject() : req.guards(), BigDecimal.valueOf(req.pairBasisPoints(), 2));
      if (!scope.platform()) {
        args.addUUID(scope.tenantId());
      }
      return moved.compose(x -> c.preparedQuery(sql).execute(args))
          .map(rows -> Rollout.from(scope, rows.iterator().next()))
          .compose(r -> {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("mode", r.mode().sql());
            details.put("stable", stable.name());
            details.put("candidates", candidates.stream().map(UUID::toString).toList());
            details.put("percentage", r.basisPoints() / 100.0);
            if (r.pairBasisPoints() > 0) {
              details.put("pairSampling", r.pairBasisPoints() / 100.0);
            }
            details.put("guards", guardsOf(r).toJson().getMap());
            return changes.record(c, scope, actor, "rollout.started", r.id().toString(), details).map(r);
          });
    })).recover(err -> {
      if (SqlStates.isUniqueViolation(err)) {
        return Future.failedFuture(CanaryException.conflict("rollout_active", "a rollout is already active"));
      }
      return Future.failedFuture(err);
    }).onSuccess(r -> changes.publish(scope, "rollout started"));
  }

  public Future<List<Rollout>> list(Scope scope, int limit) {
    return scope.tx(database, c -> c.preparedQuery("SELECT " + Rollout.COLUMNS + " FROM " + scope.rollouts()
            + " ORDER BY (state = 'active') DESC, created_at DESC LIMIT $1").execute(Tuple.of(limit))
        .map(rows -> {
          List<Rollout> out = new ArrayList<>();
          rows.forEach(r -> out.add(Rollout.from(scope, r)));
          return out;
        }));
  }

  public Future<Rollout> get(Scope scope, UUID id) {
    return scope.tx(database, c -> get(c, scope, id, false));
  }

  static Future<Rollout> get(SqlConnection c, Scope scope, UUID id, boolean lock) {
    return c.preparedQuery("SELECT " + Rollout.COLUMNS + " FROM " + scope.rollouts() + " WHERE id = $1"
            + (lock ? " FOR UPDATE" : "")).execute(Tuple.of(id))
        .map(rows -> {
          if (rows.size() == 0) {
            throw CanaryException.notFound("rollout");
          }
          return Rollout.from(scope, rows.iterator().next());
        });
  }

  /** The active rollout of the scope, or null. */
  static Future<Rollout> active(SqlConnection c, Scope scope) {
    return c.query("SELECT " + Rollout.COLUMNS + " FROM " + scope.rollouts() + " WHERE state = 'active'").execute()
        .map(rows -> rows.size() == 0 ? null : Rollout.from(scope, rows.iterator().next()));
  }

  private static Future<Rollout> lockActive(SqlConnection c, Scope scope, UUID id) {
    return get(c, scope, id, true).map(r -> {
      if (!r.active()) {
        throw CanaryException.conflict("rollout_not_active", "the rollout is " + r.state());
      }
      return r;
    });
  }

  /** Sets the candidate's share (canary) or the shadowed share (shadow). */
  public Future<Rollout> setPercentage(Scope scope, UUID id, int basisPoints, Actor actor) {
    if (basisPoints < 0 || basisPoints > 10_000) {
      return Future.failedFuture(CanaryException.invalid("percentage must be within 0..100"));
    }
    return scope.tx(database, c -> lockActive(c, scope, id).compose(r -> {
      if (r.mode() == RolloutMode.AB) {
        throw CanaryException.conflict("fixed_arms", "an A/B rollout has fixed arm percentages");
      }
      return c.preparedQuery("UPDATE " + scope.rollouts() + " SET percentage = $2, updated_at = now() WHERE id = $1")
          .execute(Tuple.of(id, BigDecimal.valueOf(basisPoints, 2)))
          .compose(x -> changes.record(c, scope, actor, "rollout.percentage", id.toString(),
              Map.of("from", r.basisPoints() / 100.0, "to", basisPoints / 100.0)))
          .compose(x -> get(c, scope, id, false));
    })).onSuccess(r -> changes.publish(scope, "rollout percentage"));
  }

  /**
   * Makes the candidate (or, for A/B, the chosen arm {@code winner}) the serving stable version; the
   * old stable one stays ready for rollback, other candidates return to draft.
   */
  public Future<Rollout> promote(Scope scope, UUID id, UUID winner, Actor actor, String reason) {
    return scope.tx(database, c -> lockActive(c, scope, id).compose(r -> {
      UUID chosen;
      if (r.mode() == RolloutMode.AB) {
        if (winner == null || r.arms().stream().noneMatch(a -> a.versionId().equals(winner))) {
          throw CanaryException.invalid("name the winning arm: versionId must be one of the rollout's arms");
        }
        chosen = winner;
      } else {
        if (winner != null && !winner.equals(r.candidateVersionId())) {
          throw CanaryException.invalid("versionId must be the rollout's candidate");
        }
        chosen = r.candidateVersionId();
      }
      Future<Void> others = Future.succeededFuture();
      for (UUID other : r.candidates()) {
        if (!other.equals(chosen)) {
          others = others.compose(x -> ModelRegistry.setState(c, scope, other, VersionState.DRAFT));
        }
      }
      Future<Void> serving = chosen.equals(r.stableVersionId()) ? others
          : others.compose(x -> ModelRegistry.makeServing(c, scope, chosen));
      return serving
          .compose(x -> end(c, scope, id, "promoted", reason))
          .compose(x -> changes.record(c, scope, actor, "rollout.promoted", id.toString(),
              Map.of("version", chosen.toString(), "previousStable", r.stableVersionId().toString(),
                  "reason", reason == null ? "" : reason)))
          .compose(x -> get(c, scope, id, false));
    })).onSuccess(r -> changes.publish(scope, "rollout promoted"));
  }

  /**
   * Ends the rollout: every conversation goes back to the stable version and the candidates return to
   * draft. {@code details} (may be empty) lands in the audit row beside the reason, e.g. the guard's
   * measurements. Fails with 409 when the rollout is no longer active.
   */
  public Future<Rollout> rollback(Scope scope, UUID id, Actor actor, String reason, Map<String, Object> details) {
    return scope.tx(database, c -> lockActive(c, scope, id).compose(r -> {
      Future<Void> drafts = Future.succeededFuture();
      for (UUID v : r.candidates()) {
        drafts = drafts.compose(x -> ModelRegistry.setState(c, scope, v, VersionState.DRAFT));
      }
      Map<String, Object> audit = new LinkedHashMap<>(details);
      audit.put("reason", reason == null ? "" : reason);
      audit.put("automatic", actor.equals(Actor.GUARD));
      audit.put("candidates", r.candidates().stream().map(UUID::toString).toList());
      return drafts.compose(x -> end(c, scope, id, "rolled_back", reason))
          .compose(x -> changes.record(c, scope, actor, "rollout.rolled_back", id.toString(), audit))
          .compose(x -> get(c, scope, id, false));
    })).onSuccess(r -> changes.publish(scope, "rollout rolled back"));
  }

  private static Future<Void> end(SqlConnection c, Scope scope, UUID id, String state, String reason) {
    return c.preparedQuery("UPDATE " + scope.rollouts() + " SET state = $2, reason = $3, ended_at = now(),"
            + " updated_at = now() WHERE id = $1")
        .execute(Tuple.of(id, state, reason == null ? "" : reason)).mapEmpty();
  }

  private void validate(StartRequest req) {
    if (req.mode() == null) {
      throw CanaryException.invalid("mode must be canary, ab or shadow");
    }
    GuardSettings.from(req.guards(), defaults);
    if (req.pairBasisPoints() != 0 && req.mode() != RolloutMode.AB) {
      throw CanaryException.invalid("pairSampling applies to A/B rollouts only (a shadow rollout pairs every "
          + "shadowed turn)");
    }
    if (req.pairBasisPoints() < 0 || req.pairBasisPoints() > 10_000) {
      throw CanaryException.invalid("pairSampling must be within 0..100");
    }
    if (req.mode() == RolloutMode.AB) {
      if (req.arms() == null || req.arms().size() < 2 || req.arms().size() > 10) {
        throw CanaryException.invalid("an A/B rollout needs 2 to 10 arms");
      }
      Set<UUID> seen = new HashSet<>();
      int total = 0;
      for (Arm a : req.arms()) {
        if (a.versionId() == null || !seen.add(a.versionId())) {
          throw CanaryException.invalid("each arm names a different version");
        }
        if (a.basisPoints() <= 0) {
          throw CanaryException.invalid("each arm's percentage must be above 0");
        }
        total += a.basisPoints();
      }
      if (total != 10_000) {
        throw CanaryException.invalid("the arms' percentages must add up to 100");
      }
    } else {
      if (req.candidateVersionId() == null) {
        throw CanaryException.invalid("candidateVersionId is required");
      }
      if (req.basisPoints() < 0 || req.basisPoints() > 10_000) {
        throw CanaryException.invalid("percentage must be within 0..100");
      }
    }
  }
}
