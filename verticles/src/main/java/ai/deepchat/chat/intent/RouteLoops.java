package ai.deepchat.chat.intent;

import ai.deepchat.chat.LoopAddresses;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.embed.Embedder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.util.List;

/**
 * An intent router on every event loop of a pipeline node (#25), so a turn is routed on the thread it runs
 * on: the request and its reply are handed over within the loop instead of waking the router's loop and
 * then the caller's. The instances share the node's routing data and small-talk vectors ({@link
 * IntentRouterVerticle#onEveryLoop}); each also serves {@link Addresses#CHAT_ROUTE}, the cluster's
 * address, which callers on a thread without a local router (or whose router went away) still use.
 */
public final class RouteLoops {

  static final LoopAddresses LOOPS = new LoopAddresses("deepchat.route.loops", Addresses.CHAT_ROUTE_ON_LOOP);

  private RouteLoops() {
  }

  /** Deploys routers until every event loop has one; returns the deployment ids. */
  public static Future<List<String>> deploy(Vertx vertx, Platform platform, Embedder faqModel) {
    return LOOPS.coverEveryLoop(vertx, IntentRouterVerticle.onEveryLoop(platform, faqModel));
  }

  /** Routes {@code request} on the calling loop's router if this node has one there, else on any router. */
  public static Future<Message<RouteDecision>> ask(Vertx vertx, RouteRequest request, long timeoutMs) {
    String local = LOOPS.onCallingLoop(vertx);
    if (local == null) {
      return anyRouter(vertx, request, timeoutMs);
    }
    return vertx.eventBus().<RouteDecision>request(local, request,
            new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true))
        .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS
            ? anyRouter(vertx, request, timeoutMs) : Future.failedFuture(err));
  }

  private static Future<Message<RouteDecision>> anyRouter(Vertx vertx, RouteRequest request, long timeoutMs) {
    return vertx.eventBus().request(Addresses.CHAT_ROUTE, request, new DeliveryOptions().setSendTimeout(timeoutMs));
  }
}
