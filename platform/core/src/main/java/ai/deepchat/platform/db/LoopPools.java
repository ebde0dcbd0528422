package ai.deepchat.platform.db;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.sqlclient.Pool;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The application's connections as one pool per event loop (#25, DB_POOL_PER_EVENT_LOOP). A pooled
 * connection does its I/O on the loop that opened it; a caller on another loop wakes that loop for every
 * statement it sends and is woken back for every answer. With one pool per loop, a caller asks its own
 * loop's pool, whose connections that loop opened (the pool opens a connection on the asking context's
 * loop), so a turn's statements are sent and answered on the caller's thread. The configured size is
 * shared out, so the node holds no more connections than before; a loop whose pool is busy waits for
 * one of its own rather than borrowing another loop's.
 */
final class LoopPools {

  private final List<Pool> pools;
  /** Each event loop's pool; read-only after construction, so lookups need no lock. */
  private final Map<EventExecutor, Pool> byLoop;

  private LoopPools(List<Pool> pools, Map<EventExecutor, Pool> byLoop) {
    this.pools = List.copyOf(pools);
    this.byLoop = byLoop;
  }

  /** One pool for every caller, as before #25. */
  static LoopPools single(Pool pool) {
    return new LoopPools(List.of(pool), Map.of());
  }

  /**
   * One pool per event loop of {@code vertx}, {@code totalSize} connections shared out (sizes differ by at
   * most one); with fewer connections than loops, loops share the pools round the ring.
   */
  static LoopPools perEventLoop(Vertx vertx, int totalSize, IntFunction<Pool> poolOfSize) {
    List<EventExecutor> loops = new ArrayList<>();
    ((VertxInternal) vertx).nettyEventLoopGroup().forEach(loops::add);
    int count = Math.max(1, Math.min(loops.size(), totalSize));
    List<Pool> pools = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      pools.add(poolOfSize.apply(sizeOf(i, count, totalSize)));
    }
    Map<EventExecutor, Pool> byLoop = new IdentityHashMap<>();
    for (int i = 0; i < loops.size(); i++) {
      byLoop.put(loops.get(i), pools.get(i % count));
    }
    return new LoopPools(pools, byLoop);
  }

  /** The size of pool {@code index} of {@code count} when {@code total} connections are shared out. */
  static int sizeOf(int index, int count, int total) {
    return Math.max(1, total / count + (index < total % count ? 1 : 0));
  }

  /**
   * The pool of the calling context's event loop (a worker context's too: its results come back on it, and
   * the loop it is tied to does its I/O); callers off Vert.x get the first pool.
   */
  Pool current() {
    if (byLoop.isEmpty()) {
      return pools.get(0); // one pool for the node (the default): no context to look up per statement
    }
    Context ctx = Vertx.currentContext();
    if (ctx instanceof ContextInternal internal) {
      EventLoop loop = internal.nettyEventLoop();
      Pool pool = byLoop.get(loop);
      if (pool != null) {
        return pool;
      }
    }
    return pools.get(0);
  }

  /** Every pool, for their sizes and for closing. */
  List<Pool> all() {
    return pools;
  }

  Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>(pools.size());
    pools.forEach(p -> closing.add(p.close()));
    return Future.all(closing).mapEmpty();
  }
}
