package ai.deepchat.chat;

import ai.deepchat.policy.plugin.ChatPlugin;
import ai.deepchat.policy.plugin.PluginContext;
import ai.deepchat.policy.plugin.PostResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * A test-only plugin that rewrites answers. Config: {@code {"replacement": "..."}} replaces the answer,
 * with {@code "behaviour": "slow", "delayMs": n} after n ms; {@code "behaviour": "fail" | "hang" |
 * "throw"} misbehaves instead. A slow rewrite announces its start on {@link #SLOW_STARTED} (the user's
 * message), so a test can act while the hook runs.
 */
public final class RewriteTestPlugin implements ChatPlugin {

  public static final String NAME = "test-rewrite";
  /** Event-bus address where a slow rewrite publishes the user's message as it starts. */
  public static final String SLOW_STARTED = "test.rewrite.slow-started";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean rewritesAnswer() {
    return true;
  }

  @Override
  public Future<PostResult> postProcess(PluginContext ctx, String userMessage, String answer) {
    return switch (ctx.config().getString("behaviour", "replace")) {
      case "fail" -> Future.failedFuture(new IllegalStateException("the rewriting service is down"));
      case "hang" -> Promise.<PostResult>promise().future();
      case "throw" -> throw new IllegalStateException("bug in the plugin");
      case "slow" -> {
        ctx.vertx().eventBus().publish(SLOW_STARTED, userMessage);
        Promise<PostResult> later = Promise.promise();
        ctx.vertx().setTimer(ctx.config().getLong("delayMs"),
            t -> later.complete(PostResult.replace(ctx.config().getString("replacement"))));
        yield later.future();
      }
      default -> Future.succeededFuture(PostResult.replace(ctx.config().getString("replacement")));
    };
  }
}
