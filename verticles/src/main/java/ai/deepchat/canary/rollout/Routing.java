package ai.deepchat.canary.rollout;

import ai.deepchat.canary.registry.ModelRegistry;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.registry.VersionState;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A snapshot of one scope's routing as PostgreSQL held it: the serving stable version, every version
 * not retired, and the active rollout (null when none).
 */
public record Routing(Scope scope, ModelVersion serving, Map<UUID, ModelVersion> versions, Rollout active) {

  static Future<Routing> load(SqlConnection c, Scope scope) {
    return ModelRegistry.list(c, scope).compose(all -> RolloutService.active(c, scope).map(rollout -> {
      Map<UUID, ModelVersion> byId = new HashMap<>();
      ModelVersion serving = null;
      for (ModelVersion v : all) {
        if (v.state() == VersionState.RETIRED) {
          continue;
        }
        byId.put(v.id(), v);
        if (v.state() == VersionState.STABLE && (serving == null || newer(v, serving))) {
          serving = v;
        }
      }
      return new Routing(scope, serving, Map.copyOf(byId), rollout);
    }));
  }

  private static boolean newer(ModelVersion a, ModelVersion b) {
    return b.stableSince() == null || a.stableSince() != null && a.stableSince().isAfter(b.stableSince());
  }

  /** True when nothing is configured in this scope (no stable version and no rollout). */
  public boolean empty() {
    return serving == null && active == null;
  }

  /**
   * Whether a conversation's pinned version can change what {@link ModelChooser} assigns it: only within an
   * active canary or A/B rollout beside a serving stable version (a shadow rollout, or none, assigns the stable
   * version whatever the pin).
   */
  public boolean keepsPins() {
    return serving != null && active != null && active.mode() != RolloutMode.SHADOW;
  }

  /** The stable versions kept for an instant rollback, newest first. */
  public List<ModelVersion> rollbackReady() {
    return versions.values().stream()
        .filter(v -> v.state() == VersionState.STABLE && serving != null && !v.id().equals(serving.id()))
        .sorted((a, b) -> b.stableSince() == null ? -1 : a.stableSince() == null ? 1
            : b.stableSince().compareTo(a.stableSince()))
        .toList();
  }
}
