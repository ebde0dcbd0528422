package ai.deepchat.chat.conversation;

import ai.deepchat.chat.intent.RouteLoops;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.policy.plugin.PluginRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * Routes a turn before it is stored, where routing is the turn's next step anyway (no tenant plugin may
 * answer or rewrite the question first): an FAQ answer is then known before the turn begins, and the
 * whole turn is stored in one transaction ({@link KnownAnswer}); any other decision is the one the turn
 * goes on with ({@link TurnRunner}), so nothing is routed twice.
 *
 * <p>The turn's acknowledgement waits for this, so it waits at most half the edge's request timeout;
 * a route still pending then is taken over by the turn, begun as before.
 */
final class EarlyRoute {

  private static final Logger LOG = LoggerFactory.getLogger(EarlyRoute.class);

  private final Vertx vertx;
  private final PlatformConfig.Chat config;
  private final PluginRegistry plugins;

  EarlyRoute(Vertx vertx, PlatformConfig.Chat config, PluginRegistry plugins) {
    this.vertx = vertx;
    this.config = config;
    this.plugins = plugins;
  }

  /**
   * The turn's route once decided, or still pending when it took longer than the wait; a null route
   * when the turn is not routed early (plugins, tools, a picture, a form to keep, a blocked message).
   */
  Future<Future<RouteDecision>> route(UUID tenantId, TurnRequest req, String blockedReply, TraceRecorder trace) {
    ChatMessage question = req.messages().get(req.messages().size() - 1);
    boolean routedLater = blockedReply != null || req.mediaId() != null || !"user".equals(question.role())
        || (req.tools() != null && !req.tools().isEmpty())
        || (req.sampling() != null && req.sampling().constraint() != null);
    if (routedLater) {
      return Future.succeededFuture(null);
    }
    return plugins.enabled(tenantId)
        .map(list -> list.isEmpty())
        .otherwise(false) // unreadable: the turn's own plugin step decides, as before
        .compose(none -> {
          if (!none) {
            return Future.succeededFuture(null);
          }
          trace.started();
          Future<RouteDecision> route = ask(vertx, config, req.turnId(), req.tenantId(), question.content())
              .onSuccess(trace::routed);
          Promise<Future<RouteDecision>> ready = Promise.promise();
          long timer = vertx.setTimer(Math.max(1, config.requestTimeoutMs() / 2), t -> ready.tryComplete(route));
          route.onComplete(ar -> {
            vertx.cancelTimer(timer);
            ready.tryComplete(route);
          });
          return ready.future();
        });
  }

  /** The path the router picks for {@code question} (it retrieves for knowledge questions); unavailable: the model answers. */
  static Future<RouteDecision> ask(Vertx vertx, PlatformConfig.Chat config, String turnId, String tenantId,
                                   String question) {
    // the router on this loop if the node has one here (#25: no other thread woken), else any router
    return RouteLoops.ask(vertx, new RouteRequest(tenantId, question),
            config.requestTimeoutMs() + config.retrievalTimeoutMs())
        .map(msg -> msg.body())
        .recover(err -> {
          LOG.warn("turn {}: intent routing unavailable ({}); answering with the model", turnId, err.getMessage());
          return Future.succeededFuture(RouteDecision.chat(0));
        });
  }
}
