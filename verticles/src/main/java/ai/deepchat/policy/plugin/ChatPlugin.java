package ai.deepchat.policy.plugin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A chat plugin, found with {@link java.util.ServiceLoader} (list the class in
 * META-INF/services/ai.deepchat.policy.plugin.ChatPlugin). A tenant enables it and gives its
 * configuration in plugin_configs (plugin = {@link #name()}). Implementations are stateless: one
 * instance serves every tenant, and everything tenant-specific comes in the {@link PluginContext}.
 * Hooks run on an event loop and must not block.
 */
public interface ChatPlugin {

  /** Stable name, stored in plugin_configs.plugin. Lowercase, digits and dashes. */
  String name();

  /** Rejects an invalid tenant configuration with an {@link IllegalArgumentException} saying what is wrong. */
  default void validateConfig(JsonObject config) {
  }

  /**
   * Runs before intent routing with the user's (already moderated) message: continue with the same
   * or a rewritten message, or answer directly (the pipeline then skips the model).
   */
  Future<PreResult> preProcess(PluginContext ctx, String userMessage);

  /** Runs on the complete answer before it is stored; returns the answer to keep. */
  default Future<String> postProcess(PluginContext ctx, String userMessage, String answer) {
    return Future.succeededFuture(answer);
  }
}
