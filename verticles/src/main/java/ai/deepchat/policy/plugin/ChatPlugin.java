package ai.deepchat.policy.plugin;

import ai.deepchat.platform.outbound.OutboundPolicy;
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
   * The same check where the node's {@link OutboundPolicy} is known (the registry's): a plugin that calls
   * URLs from its configuration refuses, when saved, those the policy would refuse at call time.
   */
  default void validateConfig(JsonObject config, OutboundPolicy outbound) {
    validateConfig(config);
  }

  /**
   * Runs before intent routing with the user's (already moderated) message: continue with the same
   * or a rewritten message, or answer directly (the pipeline then skips the model).
   */
  default Future<PreResult> preProcess(PluginContext ctx, String userMessage) {
    return Future.succeededFuture(PreResult.proceed(userMessage));
  }

  /**
   * Whether {@link #postProcess} may return {@link PostResult#replace}. While a tenant has such a plugin
   * enabled its answers are not streamed live: the client gets the final answer as one delta.
   */
  default boolean rewritesAnswer() {
    return false;
  }

  /**
   * Runs on the complete answer (model, FAQ, cache or a plugin's direct answer) before it is stored and
   * before the client's final event, with the message the answer replies to. Bounded by the plugin
   * config's {@code postTimeoutMs} (default 2 s); a failure or timeout keeps the answer unchanged.
   */
  default Future<PostResult> postProcess(PluginContext ctx, String userMessage, String answer) {
    return Future.succeededFuture(PostResult.keep());
  }
}
