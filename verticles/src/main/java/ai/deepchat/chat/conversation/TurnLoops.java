package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import io.vertx.core.Context;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.shareddata.LocalMap;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Which event loops of this node have a conversation verticle of their own, so an edge starts its turn
 * on the thread it runs on: the turn's pipeline, its upstream connection (each verticle's HTTP pool
 * opens connections on the loop that asks) and the client's socket then share one thread, and a relayed
 * token is read, handled and written without waking another loop. A loop is known by its thread's name
 * (unique within one Vert.x instance); the map is the node's own ({@link io.vertx.core.shareddata.SharedData}
 * local map), never the cluster's.
 *
 * <p>Turns from a thread without such a verticle (a gateway-only node, a loop no instance landed on, a
 * worker thread) go to {@link Addresses#CHAT_TURN}, which the bus spreads over every pipeline of the
 * cluster, as do turns whose local verticle went away between the look-up and the send (a drain).
 */
public final class TurnLoops {

  private static final String MAP = "deepchat.turn.loops";

  private TurnLoops() {
  }

  /**
   * Claims the calling event loop for the calling conversation verticle: returns the local address it
   * must consume, or null if another instance already serves this loop (or the caller is not on an
   * event loop). Call from the verticle's start, on its own loop.
   */
  static String claim(Vertx vertx) {
    if (!Context.isOnEventLoopThread()) {
      return null;
    }
    String address = Addresses.CHAT_TURN_ON_LOOP + Thread.currentThread().getName();
    return loops(vertx).putIfAbsent(Thread.currentThread().getName(), address) == null ? address : null;
  }

  /** Gives a claimed loop back ({@code address} from {@link #claim}): its edges' turns then go to the bus. */
  static void release(Vertx vertx, String address) {
    loops(vertx).remove(address.substring(Addresses.CHAT_TURN_ON_LOOP.length()), address);
  }

  /**
   * Asks a conversation verticle to start {@code request}: the one on the calling thread's event loop if
   * this node has one there, else (or if it is gone by the time the request arrives) any pipeline's.
   */
  public static Future<Message<TurnAck>> start(Vertx vertx, TurnRequest request, long timeoutMs) {
    String local = Context.isOnEventLoopThread() ? loops(vertx).get(Thread.currentThread().getName()) : null;
    if (local == null) {
      return anyPipeline(vertx, request, timeoutMs);
    }
    return vertx.eventBus().<TurnAck>request(local, request,
            new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true))
        .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS
            ? anyPipeline(vertx, request, timeoutMs) : Future.failedFuture(err));
  }

  private static Future<Message<TurnAck>> anyPipeline(Vertx vertx, TurnRequest request, long timeoutMs) {
    return vertx.eventBus().request(Addresses.CHAT_TURN, request, new DeliveryOptions().setSendTimeout(timeoutMs));
  }

  /** The event loops of this Vert.x instance (VertxOptions' eventLoopPoolSize). */
  public static int eventLoops(Vertx vertx) {
    int n = 0;
    for (var loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      n++;
    }
    return n;
  }

  /**
   * Deploys more single instances of {@code verticle} until every event loop of this node has a
   * conversation verticle, trying at most four times the loops' number; returns their deployment ids.
   * Vert.x gives instances their loops in turn, but a deployment of one instance per loop can still leave
   * a loop without one when something else takes a loop in between (seen in tests).
   * Extra instances are kept: each serves the cluster's turns like the others.
   */
  public static Future<List<String>> coverEveryLoop(Vertx vertx, Supplier<? extends Deployable> verticle) {
    List<String> added = new ArrayList<>();
    int loops = eventLoops(vertx);
    return topUp(vertx, verticle, loops, 4 * loops, added).map(v -> added);
  }

  private static Future<Void> topUp(Vertx vertx, Supplier<? extends Deployable> verticle, int loops, int tries,
                                    List<String> added) {
    int claimed = loops(vertx).size();
    if (claimed >= loops || tries == 0) {
      return Future.succeededFuture();
    }
    return vertx.deployVerticle(verticle.get()).compose(id -> {
      added.add(id);
      if (loops(vertx).size() == claimed) {
        // it landed on a loop that has one: a deployment may take more than one loop from the rotation
        // (two in a launcher test, so every try met the same two loops); step the rotation on by one
        ((VertxInternal) vertx).createEventLoopContext();
      }
      return topUp(vertx, verticle, loops, tries - 1, added);
    });
  }

  private static LocalMap<String, String> loops(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }
}
