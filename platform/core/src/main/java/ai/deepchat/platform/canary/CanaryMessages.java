package ai.deepchat.platform.canary;

import java.util.List;

/**
 * Event-bus contracts of model versions and rollouts. Rollout state lives in PostgreSQL; the bus only
 * tells every node to reload it.
 */
public final class CanaryMessages {

  private CanaryMessages() {
  }

  public static final List<Class<? extends Record>> TYPES = List.of(RoutingChanged.class);

  /**
   * Published after a committed change to a tenant's model versions or rollouts ({@code tenantId} the
   * tenant's UUID text), or to the platform-wide ones ({@code tenantId} null): every node reloads that
   * scope's routing from PostgreSQL. {@code reason} is for logs only.
   */
  public record RoutingChanged(String tenantId, String reason) {
  }
}
