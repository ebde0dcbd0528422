package ai.deepchat.platform.canary;

import ai.deepchat.platform.bus.BusFailure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * The changes a tenant's console makes to its model versions and rollouts: exported by the canary
 * feature (which validates each change, writes its audit row and tells every node's router), so the
 * console compiles against this contract, not against the registry's internals. A refused change
 * fails with a {@link BusFailure.Failed}: {@code INVALID_REQUEST}, {@code NOT_FOUND} (unknown, or
 * another tenant's) or {@code CONFLICT} (not allowed in the current state), its message the reason.
 */
public interface ModelAdmin {

  /** Who made a change, as the audit log names it ("user:&lt;id&gt;"), and from where (may be null). */
  record Actor(String name, String ip) {
  }

  /**
   * A new draft version. {@code backend}: "local" (location: the model key engine workers serve) or
   * "openai" (location: an OpenAI-compatible base URL); {@code params} and the template as stored.
   */
  record NewVersion(String name, String backend, String location, JsonObject params,
                    String systemPromptTemplate) {
  }

  Future<Void> create(UUID tenantId, NewVersion version, Actor actor);

  /** Makes a version the tenant's serving stable version. */
  Future<Void> activate(UUID tenantId, UUID versionId, Actor actor, String reason);

  Future<Void> retire(UUID tenantId, UUID versionId, Actor actor);

  /** Starts a canary of {@code candidateId} at {@code basisPoints} (1% = 100) of the conversations. */
  Future<Void> startCanary(UUID tenantId, UUID candidateId, int basisPoints, Actor actor);

  Future<Void> setPercentage(UUID tenantId, UUID rolloutId, int basisPoints, Actor actor);

  /** Ends a rollout with its candidate as the stable version. */
  Future<Void> promote(UUID tenantId, UUID rolloutId, Actor actor, String reason);

  Future<Void> rollback(UUID tenantId, UUID rolloutId, Actor actor, String reason);
}
