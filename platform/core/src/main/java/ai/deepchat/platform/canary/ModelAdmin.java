package ai.deepchat.platform.canary;

import ai.deepchat.platform.bus.BusFailure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
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

  /**
   * A refused value of one form field ({@code field}: name, location, params), 400: the console shows
   * the message beside that field. Thrown by {@link #create} for what can be blamed on one field.
   */
  final class InvalidField extends RuntimeException {
    private final String field;

    public InvalidField(String field, String message) {
      super(message, null, false, false);
      this.field = field;
    }

    public String field() {
      return field;
    }
  }

  /**
   * An engine worker live now somewhere in the cluster: the model keys it serves, on which node and
   * device, generations {@code running} and {@code queued} for a batch slot (its last announcement).
   */
  record LiveWorker(String workerId, String nodeId, String device, List<String> modelKeys, int running, int queued) {
  }

  /** The engine workers live now, cluster-wide. */
  List<LiveWorker> liveWorkers();

  /** Whether a version's backend can answer now: an endpoint always, a local model key when a live worker serves it. */
  boolean live(String backend, String location);

  /**
   * A rollout's stable and candidate versions side by side over its window, as the admin API's
   * {@code GET /v1/admin/rollouts/{id}/comparison} returns it (docs/api.md); NOT_FOUND for another tenant's.
   */
  Future<JsonObject> comparison(UUID tenantId, UUID rolloutId);
}
