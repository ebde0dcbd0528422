package ai.deepchat.canary.rollout;

import ai.deepchat.canary.registry.Scope;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One rollout of a scope. {@code percentage} is the candidate's share (canary) or the shadowed share
 * (shadow), in basis points; {@code arms} the A/B arms. {@code state} is active, promoted, rolled_back
 * or ended; {@code reason} says why it ended. {@code pairBasisPoints}: the share of an A/B rollout's turns
 * on which another arm also answers in the background, for preference pairs (0: none).
 */
public record Rollout(UUID id, Scope scope, RolloutMode mode, UUID stableVersionId, UUID candidateVersionId,
                      int basisPoints, List<Arm> arms, JsonObject guards, String state, String reason,
                      Instant createdAt, Instant updatedAt, Instant endedAt, int pairBasisPoints) {

  static final String COLUMNS = "id, mode, stable_version_id, candidate_version_id, percentage, arms, guards, state,"
      + " reason, created_at, updated_at, ended_at, pair_sampling";

  public Rollout(UUID id, Scope scope, RolloutMode mode, UUID stableVersionId, UUID candidateVersionId,
                 int basisPoints, List<Arm> arms, JsonObject guards, String state, String reason,
                 Instant createdAt, Instant updatedAt, Instant endedAt) {
    this(id, scope, mode, stableVersionId, candidateVersionId, basisPoints, arms, guards, state, reason, createdAt,
        updatedAt, endedAt, 0);
  }

  public boolean active() {
    return "active".equals(state);
  }

  /** Every version other than the stable one that this rollout sends traffic to. */
  public List<UUID> candidates() {
    if (mode == RolloutMode.AB) {
      return arms.stream().map(Arm::versionId).filter(v -> !v.equals(stableVersionId)).toList();
    }
    return candidateVersionId == null ? List.of() : List.of(candidateVersionId);
  }

  static Rollout from(Scope scope, Row row) {
    List<Arm> arms = new ArrayList<>();
    JsonArray a = (JsonArray) row.getJson("arms");
    if (a != null) {
      for (int i = 0; i < a.size(); i++) {
        JsonObject arm = a.getJsonObject(i);
        arms.add(new Arm(UUID.fromString(arm.getString("versionId")), arm.getInteger("basisPoints")));
      }
    }
    BigDecimal pct = row.getBigDecimal("percentage");
    return new Rollout(row.getUUID("id"), scope, RolloutMode.parse(row.getString("mode")),
        row.getUUID("stable_version_id"), row.getUUID("candidate_version_id"),
        pct.movePointRight(2).intValue(), List.copyOf(arms), row.getJsonObject("guards"), row.getString("state"),
        row.getString("reason"), row.getOffsetDateTime("created_at").toInstant(),
        row.getOffsetDateTime("updated_at").toInstant(),
        row.getOffsetDateTime("ended_at") == null ? null : row.getOffsetDateTime("ended_at").toInstant(),
        row.getBigDecimal("pair_sampling").movePointRight(2).intValue());
  }

  static JsonArray armsJson(List<Arm> arms) {
    JsonArray out = new JsonArray();
    arms.forEach(a -> out.add(new JsonObject().put("versionId", a.versionId().toString())
        .put("basisPoints", a.basisPoints())));
    return out;
  }

  public JsonObject toJson(GuardSettings effectiveGuards) {
    JsonArray armsOut = new JsonArray();
    arms.forEach(a -> armsOut.add(new JsonObject().put("versionId", a.versionId().toString())
        .put("percentage", a.basisPoints() / 100.0)));
    return new JsonObject()
        .put("id", id.toString())
        .put("scope", scope.platform() ? "platform" : "tenant")
        .put("mode", mode.sql())
        .put("stableVersionId", stableVersionId.toString())
        .put("candidateVersionId", candidateVersionId == null ? null : candidateVersionId.toString())
        .put("percentage", basisPoints / 100.0)
        .put("arms", armsOut)
        .put("pairSampling", pairBasisPoints / 100.0)
        .put("guards", effectiveGuards.toJson())
        .put("state", state)
        .put("reason", reason)
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString())
        .put("endedAt", endedAt == null ? null : endedAt.toString());
  }
}
