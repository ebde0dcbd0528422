package ai.deepchat.platform.db;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.sqlclient.Pool;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * The application's connections as one pool per event loop (#25, DB_POOL_PER_EVENT_LOOP). A pooled
 * connection does its I/O on the loop that opened it; a caller on another loop wakes that loop for every
 * statement it sends and is woken back for every answer. With one pool per loop, a caller asks its own
 * loop's pool, whose connections that loop opened (the pool opens a connection on the asking context's
 * loop), so a turn's statements are sent and answered on the caller's thread. The configured size is
 * shared out, so the node holds no more connections than before.
 *
 * <p>A loop whose own pool is busy borrows (the fourteenth session): a wait costs more than two wake-ups
 * (the FAQ runs' p99). Each pool counts the uses it serves ({@link Lane}); a lender is asked only while it
 * has more open connections than uses, so borrowing never opens a connection on the wrong loop. When every
 * pool is busy, uses wait in one queue for the node and each connection freed goes to the oldest.
 */
final class LoopPools {

  private final List<Lane> lanes;
  /** Each event loop's lane; read-only after construction, so lookups need no lock. */
  private final Map<EventExecutor, Lane> byLoop;
  /** Uses waiting for a connection while every pool is busy (per-loop pools only). */
  private final Queue<Promise<Lane>> waiting = new ConcurrentLinkedQueue<>();
  /** The one pool's lane, as {@link #take()} answers with one pool. */
  private final Future<Lane> onlyLane;
  /** What {@link Database#pool()} hands out: the one pool itself, or a pool that picks a lane per use. */
  private final Pool client;
  /** Uses served by the caller's own pool, by another loop's, after a wait ({@link PoolUses}). */
  private final LongAdder ownUses = new LongAdder();
  private final LongAdder borrowedUses = new LongAdder();
  private final LongAdder waitedUses = new LongAdder();

  private LoopPools(List<Lane> lanes, Map<EventExecutor, Lane> byLoop) {
    this.lanes = List.copyOf(lanes);
    this.byLoop = byLoop;
    this.client = byLoop.isEmpty() ? lanes.get(0).pool() : new LanePool(this);
    this.onlyLane = Future.succeededFuture(lanes.get(0));
  }

  /** One pool for every caller, as before #25. */
  static LoopPools single(Pool pool) {
    return new LoopPools(List.of(new Lane(pool, Integer.MAX_VALUE)), Map.of());
  }

  /**
   * One pool per event loop of {@code vertx}, {@code totalSize} connections shared out (sizes differ by at
   * most one); with fewer connections than loops, loops share the pools round the ring.
   */
  static LoopPools perEventLoop(Vertx vertx, int totalSize, IntFunction<Pool> poolOfSize) {
    List<EventExecutor> loops = new ArrayList<>();
    ((VertxInternal) vertx).nettyEventLoopGroup().forEach(loops::add);
    int count = Math.max(1, Math.min(loops.size(), totalSize));
    List<Lane> lanes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int size = sizeOf(i, count, totalSize);
      lanes.add(new Lane(poolOfSize.apply(size), size));
    }
    Map<EventExecutor, Lane> byLoop = new IdentityHashMap<>();
    for (int i = 0; i < loops.size(); i++) {
      byLoop.put(loops.get(i), lanes.get(i % count));
    }
    return new LoopPools(lanes, byLoop);
  }

  /** The size of pool {@code index} of {@code count} when {@code total} connections are shared out. */
  static int sizeOf(int index, int count, int total) {
    return Math.max(1, total / count + (index < total % count ? 1 : 0));
  }

  /**
   * The lane for one use from the calling context, counted: give it back with {@link #done} when the use
   * ends. The calling loop's own pool while it has a connection free or may open one; else the pool with
   * the most idle open connections; else, every pool busy, the use waits in the node's one queue, oldest
   * first, for the next connection any pool frees (so no use waits while another pool's connection idles,
   * and the order is one pool's).
   */
  Future<Lane> take() {
    if (byLoop.isEmpty()) {
      return onlyLane; // one pool (the default): its own queue orders the uses, nothing to count
    }
    Lane own = own();
    Lane lane = own.takeBelow(own.maxSize) ? own : lender();
    if (lane != null) {
      (lane == own ? ownUses : borrowedUses).increment();
      return Future.succeededFuture(lane);
    }
    waitedUses.increment();
    Context ctx = Vertx.currentContext();
    Promise<Lane> turn = ctx instanceof ContextInternal internal ? internal.promise() : Promise.promise();
    waiting.add(turn);
    handOff(); // a use may have ended between the look and the queueing
    return turn.future();
  }

  /** Ends a use counted by {@link #take()}: its connection goes to the oldest waiting use, if any. */
  void done(Lane lane) {
    if (byLoop.isEmpty()) {
      return;
    }
    Promise<Lane> next = waiting.poll();
    if (next != null) {
      next.complete(lane); // still counted: the connection just freed serves the next use
      return;
    }
    lane.asked.decrementAndGet();
    if (!waiting.isEmpty()) {
      handOff();
    }
  }

  /** Gives idle connections to waiting uses while both are there. */
  private void handOff() {
    while (!waiting.isEmpty()) {
      Lane lane = lender();
      if (lane == null) {
        return;
      }
      Promise<Lane> next = waiting.poll();
      if (next == null) {
        lane.asked.decrementAndGet();
      } else {
        next.complete(lane);
      }
    }
  }

  /**
   * A pool with an idle open connection, counted, the one with most; null if none. A pool that may still
   * grow but has no idle connection is not one: asked from another loop, it would open its connection there.
   */
  private Lane lender() {
    while (true) {
      Lane lender = null;
      int mostIdle = 0;
      for (Lane lane : lanes) {
        int idle = lane.idle();
        if (idle > mostIdle) {
          mostIdle = idle;
          lender = lane;
        }
      }
      if (lender == null || lender.takeBelow(lender.pool.size())) {
        return lender;
      }
    }
  }

  /** The lane of the calling context's event loop (a worker context's too); callers off Vert.x get the first. */
  private Lane own() {
    if (byLoop.isEmpty()) {
      return lanes.get(0);
    }
    Context ctx = Vertx.currentContext();
    if (ctx instanceof ContextInternal internal) {
      EventLoop loop = internal.nettyEventLoop();
      Lane lane = byLoop.get(loop);
      if (lane != null) {
        return lane;
      }
    }
    return lanes.get(0);
  }

  /** The pool for statements of the calling context (see {@link Database#pool()}). */
  Pool client() {
    return client;
  }

  /** The uses counted so far (per-loop pools only). */
  PoolUses uses() {
    return new PoolUses(ownUses.sum(), borrowedUses.sum(), waitedUses.sum());
  }

  /** How many pools the connections are shared out over. */
  int count() {
    return lanes.size();
  }

  /** Open connections over every pool. */
  int size() {
    int n = 0;
    for (Lane lane : lanes) {
      n += lane.pool.size();
    }
    return n;
  }

  Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>(lanes.size());
    lanes.forEach(l -> closing.add(l.pool.close()));
    return Future.all(closing).mapEmpty();
  }

  /** One pool and the uses it serves now (statements, transactions, held connections), counted by every loop. */
  static final class Lane {
    private final Pool pool;
    private final int maxSize;
    private final AtomicInteger asked = new AtomicInteger();

    Lane(Pool pool, int maxSize) {
      this.pool = pool;
      this.maxSize = maxSize;
    }

    Pool pool() {
      return pool;
    }

    /** Open connections no use holds (the pool's size is read without a lock: a hint). */
    private int idle() {
      return pool.size() - asked.get();
    }

    /** Counts one ask if fewer than {@code limit} are out. */
    private boolean takeBelow(int limit) {
      int n;
      do {
        n = asked.get();
        if (n >= limit) {
          return false;
        }
      } while (!asked.compareAndSet(n, n + 1));
      return true;
    }

    int asked() {
      return asked.get();
    }
  }
}
