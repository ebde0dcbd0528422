package ai.deepchat.policy.plugin;

import ai.deepchat.policy.PolicyMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * A tenant's post hooks for one answer: the plugins enabled when the turn began, in name order, each
 * seeing the answer as the earlier ones left it. A hook that fails, outlasts its {@code postTimeoutMs}
 * or replaces without declaring {@link ChatPlugin#rewritesAnswer()} changes nothing (logged, counted):
 * a broken plugin never costs the visitor the answer.
 */
public final class PostHooks {

  /** Plugin config key bounding one post hook, in ms. */
  public static final String TIMEOUT_KEY = "postTimeoutMs";
  static final long DEFAULT_TIMEOUT_MS = 2_000;
  static final long MIN_TIMEOUT_MS = 100;
  static final long MAX_TIMEOUT_MS = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(PostHooks.class);

  private final UUID tenantId;
  private final List<PluginRegistry.Enabled> plugins;
  private final Function<PluginRegistry.Enabled, PluginContext> contexts;

  PostHooks(UUID tenantId, List<PluginRegistry.Enabled> plugins,
            Function<PluginRegistry.Enabled, PluginContext> contexts) {
    this.tenantId = tenantId;
    this.plugins = List.copyOf(plugins);
    this.contexts = contexts;
  }

  /** No hooks (the plugin configs could not be read, say). */
  public static PostHooks none(UUID tenantId) {
    return new PostHooks(tenantId, List.of(), e -> null);
  }

  public boolean isEmpty() {
    return plugins.isEmpty();
  }

  /** True when a hook may rewrite the answer: it must then be held back until the hooks ran. */
  public boolean buffersAnswer() {
    return plugins.stream().anyMatch(e -> e.plugin().rewritesAnswer());
  }

  /** All hooks' changes as one: keep, append (everything appended) or replace (the final answer). Never fails. */
  public Future<PostResult> run(String userMessage, String answer) {
    return from(Vertx.currentContext(), 0, userMessage, answer, PostResult.keep());
  }

  /** Rejects a {@value #TIMEOUT_KEY} outside 100..10000 ms. */
  static void validateTimeout(JsonObject config) {
    Object v = config.getValue(TIMEOUT_KEY);
    if (v != null && !(v instanceof Number n && n.longValue() >= MIN_TIMEOUT_MS && n.longValue() <= MAX_TIMEOUT_MS
        && n.doubleValue() == n.longValue())) {
      throw new IllegalArgumentException(TIMEOUT_KEY + " must be a whole number within 100..10000");
    }
  }

  static long timeoutMs(JsonObject config) {
    Object v = config.getValue(TIMEOUT_KEY);
    long ms = v instanceof Number n ? n.longValue() : DEFAULT_TIMEOUT_MS;
    return Math.max(MIN_TIMEOUT_MS, Math.min(ms, MAX_TIMEOUT_MS));
  }

  private Future<PostResult> from(Context caller, int i, String userMessage, String answer, PostResult sofar) {
    if (i >= plugins.size()) {
      return Future.succeededFuture(sofar);
    }
    PluginRegistry.Enabled e = plugins.get(i);
    String current = sofar.applyTo(answer);
    Future<PostResult> step;
    try {
      step = e.plugin().postProcess(contexts.apply(e), userMessage, current);
    } catch (RuntimeException err) {
      step = Future.failedFuture(err);
    }
    return PluginRegistry.bounded(caller, step, timeoutMs(e.config()))
        .map(r -> {
          if (r == null) {
            return PostResult.keep();
          }
          if (r.kind() == PostResult.Kind.REPLACE && !e.plugin().rewritesAnswer()) {
            throw new IllegalStateException("replaced the answer without declaring rewritesAnswer()");
          }
          return r;
        })
        .recover(err -> {
          LOG.warn("tenant {}: plugin {} post-processing failed, answer kept: {}", tenantId, e.plugin().name(),
              err.toString());
          PolicyMetrics.pluginFailed(e.plugin().name(), "post");
          return Future.succeededFuture(PostResult.keep());
        })
        .compose(r -> from(caller, i + 1, userMessage, answer, sofar.andThen(r)));
  }
}
