package ai.deepchat.chat;

import io.vertx.core.Context;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.shareddata.LocalMap;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Which event loops of this node have an instance of one kind of verticle of their own, each consuming a
 * node-local address named after its loop, so a caller on that loop asks it without waking another
 * thread (#25: the conversation verticle, {@code TurnLoops}; the intent router, {@code RouteLoops}). A
 * loop is known by its thread's name (unique within one Vert.x instance); the map is the node's own
 * ({@link io.vertx.core.shareddata.SharedData} local map), never the cluster's.
 */
public final class LoopAddresses {

  private final String map;
  private final String prefix;

  /** {@code map}: the local map's name; {@code prefix}: the addresses' (the loop's thread name follows). */
  public LoopAddresses(String map, String prefix) {
    this.map = map;
    this.prefix = prefix;
  }

  /**
   * Claims the calling event loop for the calling verticle: returns the local address it must consume,
   * or null if another instance already serves this loop (or the caller is not on an event loop). Call
   * from the verticle's start, on its own loop.
   */
  public String claim(Vertx vertx) {
    if (!Context.isOnEventLoopThread()) {
      return null;
    }
    String address = prefix + Thread.currentThread().getName();
    return loops(vertx).putIfAbsent(Thread.currentThread().getName(), address) == null ? address : null;
  }

  /** Gives a claimed loop back ({@code address} from {@link #claim}). */
  public void release(Vertx vertx, String address) {
    loops(vertx).remove(address.substring(prefix.length()), address);
  }

  /** The local address of the instance on the calling thread's event loop, or null. */
  public String onCallingLoop(Vertx vertx) {
    return Context.isOnEventLoopThread() ? loops(vertx).get(Thread.currentThread().getName()) : null;
  }

  /** How many loops are claimed. */
  public int claimed(Vertx vertx) {
    return loops(vertx).size();
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
   * Deploys more single instances of {@code verticle} until every event loop of this node has one that
   * claimed it, trying at most four times the loops' number; returns their deployment ids. Vert.x gives
   * instances their loops in turn, but a deployment of one instance per loop can still leave a loop without
   * one when something else takes a loop in between (seen in tests). Extra instances are kept: each serves
   * the cluster's address like the others.
   */
  public Future<List<String>> coverEveryLoop(Vertx vertx, Supplier<? extends Deployable> verticle) {
    List<String> added = new ArrayList<>();
    int loops = eventLoops(vertx);
    return topUp(vertx, verticle, loops, 4 * loops, added).map(v -> added);
  }

  private Future<Void> topUp(Vertx vertx, Supplier<? extends Deployable> verticle, int loops, int tries,
                             List<String> added) {
    int claimed = claimed(vertx);
    if (claimed >= loops || tries == 0) {
      return Future.succeededFuture();
    }
    return vertx.deployVerticle(verticle.get()).compose(id -> {
      added.add(id);
      if (claimed(vertx) == claimed) {
        // it landed on a loop that has one: a deployment may take more than one loop from the rotation
        // (two in a launcher test, so every try met the same two loops); step the rotation on by one
        ((VertxInternal) vertx).createEventLoopContext();
      }
      return topUp(vertx, verticle, loops, tries - 1, added);
    });
  }

  private LocalMap<String, String> loops(Vertx vertx) {
    return vertx.sharedData().getLocalMap(map);
  }
}
