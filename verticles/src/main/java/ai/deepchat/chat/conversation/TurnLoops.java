package ai.deepchat.chat.conversation;

import ai.deepchat.chat.LoopAddresses;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

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

  private static final LoopAddresses LOOPS = new LoopAddresses("deepchat.turn.loops", Addresses.CHAT_TURN_ON_LOOP);

  private TurnLoops() {
  }

  /**
   * Claims the calling event loop for the calling conversation verticle: returns the local address it
   * must consume, or null if another instance already serves this loop (or the caller is not on an
   * event loop). Call from the verticle's start, on its own loop.
   */
  static String claim(Vertx vertx) {
    return LOOPS.claim(vertx);
  }

  /** Gives a claimed loop back ({@code address} from {@link #claim}): its edges' turns then go to the bus. */
  static void release(Vertx vertx, String address) {
    LOOPS.release(vertx, address);
  }

  /**
   * Asks a conversation verticle to start {@code request}: the one on the calling thread's event loop if
   * this node has one there, else (or if it is gone by the time the request arrives) any pipeline's.
   */
  public static Future<Message<TurnAck>> start(Vertx vertx, TurnRequest request, long timeoutMs) {
    String local = LOOPS.onCallingLoop(vertx);
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
    return LoopAddresses.eventLoops(vertx);
  }

  /**
   * Deploys more single instances of {@code verticle} until every event loop of this node has a
   * conversation verticle ({@link LoopAddresses#coverEveryLoop}); returns their deployment ids.
   */
  public static Future<List<String>> coverEveryLoop(Vertx vertx, Supplier<? extends Deployable> verticle) {
    return LOOPS.coverEveryLoop(vertx, verticle);
  }
}
