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

  /** Every version the tenant may request, the platform default included. */
  Future<List<ModelChoice>> available(UUID tenantId);

  /** The platform default, used when a tenant has configured nothing. */
  ModelChoice platformDefault();
}
