package ai.deepchat.chat.dispatch;

import io.vertx.core.Future;

import java.util.List;
import java.util.UUID;

/** Decides which model version serves a tenant's conversation. */
public interface ModelDispatcher {

  /**
   * The version for this conversation: the requested one by name (any state but retired), else the
   * tenant's stable version (or an active rollout's candidate, stable per conversation), else the
   * platform default. Fails with {@code BusFailure.MODEL_NOT_FOUND} for an unknown name.
   */
  Future<ModelChoice> choose(UUID tenantId, UUID conversationId, String requestedModel);

  /**
   * The same choice as a step of the caller's own transaction, already scoped to {@code tenantId}: one
   * transaction less per turn. What it needs besides that connection (rollout snapshots) is fetched before
   * the returned future completes, so the step never waits for another connection while holding one.
   * {@code stored}: {@code conversationId} names a stored conversation (false: a new one, nothing to look up).
   * Where the node's copies make the choice without a statement, {@link ModelStep#withoutStatements} returns it.
   */
  Future<ModelStep> inTransaction(UUID tenantId, UUID conversationId, boolean stored, String requestedModel);

  /** Every version the tenant may request, the platform default included. */
  Future<List<ModelChoice>> available(UUID tenantId);

  /** The platform default, used when a tenant has configured nothing. */
  ModelChoice platformDefault();
}
