package ai.deepchat.policy.plugin;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Chaining, declared rewrites and misbehaving hooks, on small plugins of the test's own. */
@ExtendWith(VertxExtension.class)
class PostHooksTest {

  static final UUID TENANT = UUID.randomUUID();

  /** A plugin whose post hook is {@code hook(answer, config)}. */
  static ChatPlugin plugin(String name, boolean rewrites, BiFunction<String, JsonObject, Future<PostResult>> hook) {
    return new ChatPlugin() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public boolean rewritesAnswer() {
        return rewrites;
      }

      @Override
      public Future<PostResult> postProcess(PluginContext ctx, String userMessage, String answer) {
        return hook.apply(answer, ctx.config());
      }
    };
  }

  static PluginRegistry.Enabled on(ChatPlugin p, JsonObject config) {
    return new PluginRegistry.Enabled(p, config);
  }

  static PostResult run(Vertx vertx, List<PluginRegistry.Enabled> plugins, String answer) throws Exception {
    PostHooks hooks = new PostHooks(TENANT, plugins, e -> new PluginContext(vertx, TENANT, e.config(), null));
    return hooks.run("question", answer).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static final ChatPlugin FOOTER = plugin("footer", false, (a, c) -> Future.succeededFuture(PostResult.append("\n\nF")));
  static final ChatPlugin SEES = plugin("sees", false,
      (a, c) -> Future.succeededFuture(PostResult.append(" [saw " + a.length() + " chars]")));
  static final ChatPlugin UPPER = plugin("upper", true, (a, c) -> Future.succeededFuture(PostResult.replace(a.toUpperCase())));

  @Test
  void eachHookSeesTheAnswerAsTheEarlierOnesLeftIt(Vertx vertx) throws Exception {
    assertThat(run(vertx, List.of(on(FOOTER, new JsonObject()), on(SEES, new JsonObject())), "abc"))
        .isEqualTo(PostResult.append("\n\nF [saw 6 chars]"));
    assertThat(run(vertx, List.of(on(FOOTER, new JsonObject()), on(UPPER, new JsonObject()), on(SEES, new JsonObject())), "abc"))
        .isEqualTo(PostResult.replace("ABC\n\nF [saw 6 chars]"));
    assertThat(run(vertx, List.of(), "abc")).isEqualTo(PostResult.keep());
  }

  @Test
  void onlyADeclaredRewriterBuffersAndMayReplace(Vertx vertx) throws Exception {
    PostHooks live = new PostHooks(TENANT, List.of(on(FOOTER, new JsonObject())), e -> null);
    PostHooks held = new PostHooks(TENANT, List.of(on(FOOTER, new JsonObject()), on(UPPER, new JsonObject())), e -> null);
    assertThat(live.buffersAnswer()).isFalse();
    assertThat(held.buffersAnswer()).isTrue();
    ChatPlugin sneaky = plugin("sneaky", false, (a, c) -> Future.succeededFuture(PostResult.replace("gone")));
    assertThat(run(vertx, List.of(on(sneaky, new JsonObject()), on(FOOTER, new JsonObject())), "abc"))
        .isEqualTo(PostResult.append("\n\nF"));
  }

  @Test
  void aHookThatFailsThrowsOrHangsChangesNothingAndTheNextStillRuns(Vertx vertx) throws Exception {
    ChatPlugin fails = plugin("a-fails", true, (a, c) -> Future.failedFuture("down"));
    ChatPlugin throwing = plugin("b-throws", true, (a, c) -> {
      throw new IllegalStateException("bug");
    });
    ChatPlugin hangs = plugin("c-hangs", true, (a, c) -> Promise.<PostResult>promise().future());
    ChatPlugin nothing = plugin("d-null", false, (a, c) -> Future.succeededFuture(null));
    assertThat(run(vertx, List.of(on(fails, new JsonObject()), on(throwing, new JsonObject()),
        on(hangs, new JsonObject().put(PostHooks.TIMEOUT_KEY, 100)), on(nothing, new JsonObject()),
        on(FOOTER, new JsonObject())), "abc")).isEqualTo(PostResult.append("\n\nF"));
  }

  @Test
  void hooksRunAndTheResultArrivesOnTheCallersContext(Vertx vertx) throws Exception {
    Context caller = vertx.getOrCreateContext();
    List<Boolean> onCaller = new CopyOnWriteArrayList<>();
    ChatPlugin elsewhere = plugin("a-elsewhere", false, (a, c) -> {
      Promise<PostResult> p = Promise.promise();
      new Thread(() -> p.complete(PostResult.append("!"))).start();
      return p.future();
    });
    ChatPlugin hangs = plugin("b-hangs", false, (a, c) -> Promise.<PostResult>promise().future());
    ChatPlugin checks = plugin("c-checks", false, (a, c) -> {
      onCaller.add(Vertx.currentContext() == caller);
      return Future.succeededFuture(PostResult.keep());
    });
    PostHooks hooks = new PostHooks(TENANT, List.of(on(elsewhere, new JsonObject()), on(checks, new JsonObject()),
        on(hangs, new JsonObject().put(PostHooks.TIMEOUT_KEY, 100)), on(checks, new JsonObject())),
        e -> new PluginContext(vertx, TENANT, e.config(), null));
    CompletableFuture<PostResult> result = new CompletableFuture<>();
    caller.runOnContext(v -> hooks.run("q", "a").onComplete(ar -> {
      onCaller.add(Vertx.currentContext() == caller);
      result.complete(ar.result());
    }));
    assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(PostResult.append("!"));
    assertThat(onCaller).containsExactly(true, true, true);
  }

  @Test
  void theTimeoutIsBoundedAndValidated() {
    assertThat(PostHooks.timeoutMs(new JsonObject())).isEqualTo(PostHooks.DEFAULT_TIMEOUT_MS);
    assertThat(PostHooks.timeoutMs(new JsonObject().put(PostHooks.TIMEOUT_KEY, 500))).isEqualTo(500);
    assertThat(PostHooks.timeoutMs(new JsonObject().put(PostHooks.TIMEOUT_KEY, 10_000_000))).isEqualTo(10_000);
    PostHooks.validateTimeout(new JsonObject().put(PostHooks.TIMEOUT_KEY, 2000));
    for (Object bad : List.of(50, 20_000, "2000", 1500.5)) {
      assertThatThrownBy(() -> PostHooks.validateTimeout(new JsonObject().put(PostHooks.TIMEOUT_KEY, bad)))
          .as(String.valueOf(bad)).hasMessageContaining("postTimeoutMs");
    }
  }
}
