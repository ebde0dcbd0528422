package ai.deepchat.chat;

import ai.deepchat.canary.CanaryServices;
import ai.deepchat.channel.wechat.ChannelFeature;
import ai.deepchat.chat.api.ChatApiModule;
import ai.deepchat.chat.api.TextCompletionsModule;
import ai.deepchat.chat.cache.ResponseCache;
import ai.deepchat.chat.conversation.ConversationVerticle;
import ai.deepchat.chat.conversation.TurnLoops;
import ai.deepchat.chat.dispatch.TokenCounter;
import ai.deepchat.chat.dispatch.RecentCounts;
import ai.deepchat.chat.dispatch.TokenizerTokenCounter;
import ai.deepchat.chat.intent.RouteLoops;
import ai.deepchat.chat.widget.VisitorSockets;
import ai.deepchat.chat.widget.VisitorTokens;
import ai.deepchat.chat.widget.WidgetModule;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.security.JwtSecret;
import ai.deepchat.policy.PolicyServices;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * How the launcher wires the chat path: HTTP modules for the gateway role (rate-limited with the
 * policy's request limits; WeChat and WeCom channels included), verticles for the pipeline role (input moderated by the policy's word lists).
 */
public final class ChatFeature {

  private ChatFeature() {
  }

  /**
   * The OpenAI-compatible API and the widget endpoints, with widget ratings reported to rollout routing
   * ({@code canary} may be null). Reads the visitor-token secret now (blocking: call at start-up); the
   * supplier then makes one gateway instance's modules, cheaply, on that instance's event loop. They
   * share the node's request limits and rollout routing (both thread-safe).
   */
  public static Supplier<List<HttpModule>> httpModules(Vertx vertx, Platform platform, PolicyServices policy,
                                                       CanaryServices canary) {
    String tokenSecret = JwtSecret.resolve(platform.config());
    VisitorSockets sockets = VisitorSockets.listen(vertx);
    Supplier<HttpModule> channels = ChannelFeature.httpModule(vertx, platform, policy.limits(), policy.audit());
    return () -> List.of(new ChatApiModule(vertx, platform, policy.limits()),
        new TextCompletionsModule(vertx, platform, policy.limits(), policy.moderation()),
        new WidgetModule(vertx, platform, policy.limits(), canary, tokenSecret, sockets), channels.get());
  }

  /**
   * Intent routing (FAQ entries matched with {@code faqModel}; a router on every event loop, {@link RouteLoops}),
   * then conversations (which ask the router),
   * with the model's tokenizer loaded on a worker thread; returns the deployment ids. Model versions are
   * chosen by rollout routing ({@code canary}): canary and A/B candidates, shadow answers, outcomes
   * reported to the rollout guard. Null: the tenant's stable version answers.
   * PIPELINE_INSTANCES conversation verticles share the tokenizer and one response cache (both
   * thread-safe), so a repeated question is a hit whichever instance the bus hands it to. With
   * PIPELINE_ON_EDGE_LOOP more are added until every event loop has one of its own ({@link TurnLoops}).
   */
  public static Future<List<String>> deployPipeline(Vertx vertx, Platform platform, PolicyServices policy,
                                                    CanaryServices canary, Embedder faqModel) {
    List<String> ids = new ArrayList<>();
    var chat = platform.config().chat();
    ResponseCache cache = new ResponseCache(chat.cacheSize(), Duration.ofSeconds(chat.cacheTtlSeconds()));
    return RouteLoops.deploy(vertx, platform, faqModel)
        .compose(routers -> {
          ids.addAll(routers);
          return vertx.executeBlocking(() -> tokenCounter(platform));
        })
        .compose(tokens -> {
          Supplier<ConversationVerticle> conversations = () -> new ConversationVerticle(platform, tokens, policy, canary, cache);
          int instances = platform.config().instances().pipeline();
          return vertx.deployVerticle(conversations, new DeploymentOptions().setInstances(instances))
              .compose(id -> {
                ids.add(id);
                return platform.config().instances().turnsOnEdgeLoop() ? TurnLoops.coverEveryLoop(vertx, conversations)
                    : Future.succeededFuture(List.<String>of());
              });
        })
        .compose(added -> {
          ids.addAll(added);
          // WeChat/WeCom messages a dead node left unanswered are taken over by pipeline nodes
          return ChannelFeature.deploySweeper(vertx, platform, policy.limits());
        })
        .map(id -> {
          ids.add(id);
          return ids;
        });
  }

  /**
   * Token counts for context budgets: the served model's tokenizer (MODEL_DIR), else the DeepSeek-V3
   * tokenizer (the test model's and DeepSeek API's). Blocking: loads a tokenizer file.
   */
  public static TokenCounter tokenCounter(Platform platform) {
    TokenCounter counter = TokenizerTokenCounter.forConfig(platform.config());
    // the native tokenizer is worth remembering; the estimate costs less than a lookup
    return counter instanceof TokenizerTokenCounter ? new RecentCounts(counter, RecentCounts.DEFAULT_MAX_CHARS) : counter;
  }
}
